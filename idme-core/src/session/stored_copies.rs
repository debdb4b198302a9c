//! Stored sessions kept in this process for a moment, so a burst of requests carrying one
//! session makes one store round trip rather than one each (and opens the sealed record
//! once). A logout or a refresh on this instance replaces or drops its copy at once; one
//! on another instance takes effect here when the copy ages out (the configured
//! `session_store_cache`, 500 ms by default, at most 1 s).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
// A monotonic, sub-second age of a local copy: not protocol time, so not the engine's
// `Clock` (Unix seconds).
use std::time::{Duration, Instant};

use super::Session;

/// The most copies kept; beyond it the aged ones go, then all.
const CAPACITY: usize = 10_000;

/// Recently loaded stored sessions, by session id.
#[derive(Default)]
pub(crate) struct StoredCopies {
    map: Mutex<HashMap<String, (Arc<Session>, Instant)>>,
}

impl StoredCopies {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (Arc<Session>, Instant)>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The copy of session `sid`, if one was loaded less than `fresh_for` before `now`.
    pub(crate) fn get(&self, sid: &str, now: Instant, fresh_for: Duration) -> Option<Arc<Session>> {
        if fresh_for.is_zero() {
            return None;
        }
        self.lock()
            .get(sid)
            .filter(|(_, at)| now.saturating_duration_since(*at) < fresh_for)
            .map(|(s, _)| Arc::clone(s))
    }

    /// Keeps `session` as read from (or written to) the store at `now`, for `fresh_for`.
    pub(crate) fn put(&self, session: Arc<Session>, now: Instant, fresh_for: Duration) {
        if fresh_for.is_zero() {
            return;
        }
        let mut map = self.lock();
        if map.len() >= CAPACITY {
            map.retain(|_, (_, at)| now.saturating_duration_since(*at) < fresh_for);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(session.sid.clone(), (session, now));
    }

    /// Drops the copy of session `sid` (it ended here).
    pub(crate) fn remove(&self, sid: &str) {
        self.lock().remove(sid);
    }

    /// Drops the copies of the user `sub` and of the provider session `provider_sid`
    /// (a back-channel logout).
    pub(crate) fn remove_matching(&self, sub: Option<&str>, provider_sid: Option<&str>) {
        self.lock().retain(|_, (s, _)| {
            sub != Some(s.sub.as_str())
                && (provider_sid.is_none() || s.provider_sid.as_deref() != provider_sid)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(sid: &str, sub: &str, psid: Option<&str>) -> Arc<Session> {
        Arc::new(Session {
            provider_sid: psid.map(str::to_owned),
            ..Session::for_tests(sid, sub, 0)
        })
    }

    #[test]
    fn copies_age_out_and_logouts_drop_them() {
        const FRESH_FOR: Duration = Duration::from_millis(500);
        let t = Instant::now();
        let copies = StoredCopies::default();
        copies.put(session("a", "alice", Some("p1")), t, FRESH_FOR);
        copies.put(session("b", "bob", None), t, FRESH_FOR);
        copies.put(session("c", "carol", Some("p3")), t, FRESH_FOR);
        assert!(copies.get("a", t, FRESH_FOR).is_some());
        copies.remove("a");
        assert!(copies.get("a", t, FRESH_FOR).is_none());
        copies.remove_matching(Some("bob"), None);
        assert!(copies.get("b", t, FRESH_FOR).is_none());
        assert!(
            copies.get("c", t, FRESH_FOR).is_some(),
            "other users keep theirs"
        );
        copies.remove_matching(None, Some("p3"));
        assert!(copies.get("c", t, FRESH_FOR).is_none());
        copies.put(session("d", "dave", None), t, FRESH_FOR);
        let almost = t + FRESH_FOR - Duration::from_millis(1);
        assert!(copies.get("d", almost, FRESH_FOR).is_some(), "still fresh");
        assert!(
            copies.get("d", t + FRESH_FOR, FRESH_FOR).is_none(),
            "aged out"
        );
        assert!(
            copies.get("d", t, Duration::ZERO).is_none(),
            "zero: no cache"
        );
    }
}
