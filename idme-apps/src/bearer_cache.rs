//! Bearer users kept in this process for a moment, so a client's burst of requests with
//! one access token opens its grant (a store read, AES-256-GCM and JSON) and builds the
//! user it shows once rather than per request. A revocation, rotation or logout on this
//! instance drops the copy at once; one on another instance takes effect here when the
//! copy ages out (the engine's `session_store_cache`, 500 ms by default, at most 1 s).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
// A monotonic, sub-second age of a local copy: not protocol time, so not the engine's
// `Clock` (Unix seconds).
use std::time::{Duration, Instant};

use idme_core::IdmeUser;

/// The most users kept; beyond it the aged ones go, then all.
const CAPACITY: usize = 10_000;

/// What a cached grant answers for its current access token.
struct Cached {
    /// SHA-256 (hex) of the access token the user was built for.
    access_hash: String,
    /// Unix seconds: the access token's end (checked at every use).
    access_expires_at: u64,
    /// The user the token shows (cheap to clone: shared).
    user: IdmeUser,
    /// Whose grant it is (a logout of the person drops it).
    sub: String,
}

/// Recently authenticated bearer users, by grant (token family) id.
#[derive(Default)]
pub(crate) struct BearerCache {
    map: Mutex<HashMap<String, (Cached, Instant)>>,
    /// Moves at every drop, so that a grant read before a revocation here is not kept
    /// after it.
    epoch: AtomicU64,
}

impl BearerCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (Cached, Instant)>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The user of grant `id` and when its token ends (Unix seconds), if the copy was made
    /// less than `fresh_for` before `now` for the access token hashed `access_hash` (another
    /// token of the grant, rotated since, finds none: the store decides).
    pub(crate) fn get(
        &self,
        id: &str,
        access_hash: &str,
        now: Instant,
        fresh_for: Duration,
    ) -> Option<(IdmeUser, u64)> {
        if fresh_for.is_zero() {
            return None;
        }
        self.lock()
            .get(id)
            .filter(|(c, at)| {
                now.saturating_duration_since(*at) < fresh_for
                    && crate::codes::same(&c.access_hash, access_hash)
            })
            .map(|(c, _)| (c.user.clone(), c.access_expires_at))
    }

    /// The epoch to hand to [`put`](Self::put): read before the store is.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Keeps `user`, shown for the access token hashed `access_hash` of grant `id`, as
    /// read from the store at `now`, unless something was dropped since `epoch`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put(
        &self,
        epoch: u64,
        id: &str,
        access_hash: &str,
        access_expires_at: u64,
        user: &IdmeUser,
        now: Instant,
        fresh_for: Duration,
    ) {
        if fresh_for.is_zero() {
            return;
        }
        let cached = Cached {
            access_hash: access_hash.to_owned(),
            access_expires_at,
            user: user.clone(),
            sub: user.sub().to_owned(),
        };
        let mut map = self.lock();
        if self.epoch() != epoch {
            return;
        }
        if map.len() >= CAPACITY {
            map.retain(|_, (_, at)| now.saturating_duration_since(*at) < fresh_for);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(id.to_owned(), (cached, now));
    }

    /// Drops the copy of grant `id` (revoked or rotated here).
    pub(crate) fn remove(&self, id: &str) {
        let mut map = self.lock();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        map.remove(id);
    }

    /// Drops the copies of `sub`'s grants, or all when the person is not known.
    pub(crate) fn remove_person(&self, sub: Option<&str>) {
        let mut map = self.lock();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        match sub {
            Some(sub) => map.retain(|_, (c, _)| c.sub != sub),
            None => map.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idme_core::UserParts;

    fn user(sub: &str) -> IdmeUser {
        IdmeUser::from_parts(UserParts {
            sub: sub.into(),
            claims: Default::default(),
            verification: None,
            session_id: "g".into(),
            created_at: 0,
            expires_at: 10,
            provider_sid: None,
            auth_time: None,
            acr: None,
        })
    }

    #[test]
    fn copies_age_out_and_revocations_drop_them() {
        const FRESH_FOR: Duration = Duration::from_millis(500);
        let t = Instant::now();
        let cache = BearerCache::default();
        cache.put(cache.epoch(), "a", "h1", 10, &user("alice"), t, FRESH_FOR);
        cache.put(cache.epoch(), "b", "h2", 10, &user("bob"), t, FRESH_FOR);
        cache.put(cache.epoch(), "c", "h3", 10, &user("carol"), t, FRESH_FOR);
        assert!(cache.get("a", "h1", t, FRESH_FOR).is_some());
        assert!(
            cache.get("a", "h0", t, FRESH_FOR).is_none(),
            "another token"
        );
        cache.remove("a");
        assert!(cache.get("a", "h1", t, FRESH_FOR).is_none());
        cache.remove_person(Some("bob"));
        assert!(cache.get("b", "h2", t, FRESH_FOR).is_none());
        assert!(
            cache.get("c", "h3", t, FRESH_FOR).is_some(),
            "others keep theirs"
        );
        let almost = t + FRESH_FOR - Duration::from_millis(1);
        assert!(
            cache.get("c", "h3", almost, FRESH_FOR).is_some(),
            "still fresh"
        );
        assert!(
            cache.get("c", "h3", t + FRESH_FOR, FRESH_FOR).is_none(),
            "aged out"
        );
        cache.remove_person(None);
        assert!(cache.get("c", "h3", t, FRESH_FOR).is_none(), "all dropped");
        cache.put(
            cache.epoch(),
            "d",
            "h4",
            10,
            &user("dave"),
            t,
            Duration::ZERO,
        );
        assert!(
            cache.get("d", "h4", t, FRESH_FOR).is_none(),
            "zero: no cache"
        );
        // Read before a revocation here, kept after it: never.
        let before = cache.epoch();
        cache.remove("e");
        cache.put(before, "e", "h5", 10, &user("erin"), t, FRESH_FOR);
        assert!(
            cache.get("e", "h5", t, FRESH_FOR).is_none(),
            "a stale read is not kept"
        );
    }
}
