//! The sealed cookie value last made for each session (cookie store), kept so that a
//! client that ignores `Set-Cookie` (and so presents the pre-refresh cookie, or one whose
//! last-seen time is due, again and again) gets the same value back instead of a seal
//! (JSON, deflate, AES-256-GCM) per request: at most one seal per session and second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::Session;

/// The most sessions remembered; beyond it, all are forgotten (each costs one seal more).
const CAPACITY: usize = 10_000;

/// One remembered seal: of which session, as it was when opened or refreshed (`source`,
/// held so its address is not reused), with which last-seen time, and the value.
struct Sealed {
    source: Arc<Session>,
    last_seen: u64,
    value: Arc<str>,
}

/// The latest seal of each session, by session id.
#[derive(Default)]
pub(crate) struct SealedCopies {
    map: Mutex<HashMap<String, Sealed>>,
}

impl SealedCopies {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Sealed>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sealed value of `session`, which is `source` (the session as opened or
    /// refreshed, the same shared copy each time) with at most its last-seen time
    /// changed: the value remembered for the same `source` and last-seen time, else
    /// `seal()`'s, remembered. The flag says whether `seal` ran.
    pub(crate) fn get_or_seal(
        &self,
        source: &Arc<Session>,
        session: &Session,
        seal: impl FnOnce() -> String,
    ) -> (Arc<str>, bool) {
        if let Some(s) = self.lock().get(&session.sid)
            && Arc::ptr_eq(&s.source, source)
            && s.last_seen == session.last_seen
        {
            return (Arc::clone(&s.value), false);
        }
        // Sealed outside the lock: concurrent requests may both seal once.
        let value: Arc<str> = seal().into();
        let mut map = self.lock();
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(
            session.sid.clone(),
            Sealed {
                source: Arc::clone(source),
                last_seen: session.last_seen,
                value: Arc::clone(&value),
            },
        );
        (value, true)
    }

    /// Forgets session `sid` (it ended here).
    pub(crate) fn remove(&self, sid: &str) {
        self.lock().remove(sid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seal_per_source_and_last_seen() {
        let copies = SealedCopies::default();
        let source = Arc::new(Session::for_tests("a", "alice", 0));
        let mut seals = 0;
        let mut seal = |v: &str| {
            seals += 1;
            v.to_owned()
        };
        let (v, sealed) = copies.get_or_seal(&source, &source, || seal("one"));
        assert!(sealed);
        assert_eq!(&*v, "one");
        let (v, sealed) = copies.get_or_seal(&source, &source, || seal("two"));
        assert!(!sealed, "same source, same last-seen: remembered");
        assert_eq!(&*v, "one");

        let later = Session {
            last_seen: 60,
            ..(*source).clone()
        };
        let (v, _) = copies.get_or_seal(&source, &later, || seal("three"));
        assert_eq!(&*v, "three", "a new last-seen time: sealed again");

        let other_source = Arc::new((*source).clone());
        let (v, _) = copies.get_or_seal(&other_source, &other_source, || seal("four"));
        assert_eq!(&*v, "four", "another copy (a refresh): sealed again");

        copies.remove("a");
        let (_, sealed) = copies.get_or_seal(&other_source, &other_source, || seal("five"));
        assert!(sealed, "forgotten once the session ended");
        assert_eq!(seals, 4);
    }
}
