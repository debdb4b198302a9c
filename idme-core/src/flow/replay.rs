//! The record of logins already used, which makes each login single-use: a replayed
//! callback is refused even if the browser (or an attacker) still holds the pending-login
//! cookie.
//!
//! Anyone can add entries (a `GET` on the login route and a bogus callback carrying its
//! `state` add one), so the record is bounded in time and in size, and costs O(1) per
//! callback:
//! - a login is keyed by the first 12 bytes of the SHA-256 of its `state` (the bytes the
//!   pending cookie's name shows in hex), stored as bytes;
//! - keys are grouped in buckets by expiry time ([`BUCKET_SECS`] wide); a bucket whose
//!   every login has expired is dropped whole, so no request sweeps the map;
//! - a hard cap ([`MAX_ENTRIES`]) bounds memory. At the cap a sixteenth of it, from the bucket closest to expiry,
//!   is dropped, with a warning. Refusing new logins instead would let anyone lock every
//!   user out by flooding the callback. Dropping only loses the replay record of logins
//!   that are about to expire anyway: their pending cookie is still needed, and in code
//!   flows the provider's single-use, PKCE-bound code still stops a replay.
//!
//! A login's expiry comes from its sealed pending cookie (`created_at` + login timeout),
//! which holds its `state`: a replay carries the same cookie, so it lands in the same
//! bucket, and only that bucket is looked up.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};

/// A login's key: the first 12 bytes of the SHA-256 of its `state`.
pub(crate) type LoginKey = [u8; 12];

/// The width of an expiry bucket, in seconds: the granularity of expiry and eviction.
pub(crate) const BUCKET_SECS: u64 = 4;
/// The most logins remembered at once: about 1.5 MB, and 109 sign-ins a second
/// sustained over the default 10-minute login timeout of one instance.
pub(crate) const MAX_ENTRIES: usize = 65_536;

/// The key of the login whose state is `state`.
pub(crate) fn login_key(state: &str) -> LoginKey {
    let digest = Sha256::digest(state.as_bytes());
    let mut key = [0u8; 12];
    key.copy_from_slice(&digest[..12]);
    key
}

/// Logins already completed (or failed after their cookie was accepted), remembered until
/// they would have expired anyway.
#[derive(Debug)]
pub(crate) struct UsedLogins {
    cap: usize,
    buckets: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    /// Bucket number (`expires_at / BUCKET_SECS`) → the keys expiring in it.
    by_expiry: BTreeMap<u64, HashSet<LoginKey>>,
    /// How many keys in all.
    len: usize,
}

/// What the record holds, for tests and measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(any(test, feature = "test-util")), allow(dead_code))]
pub(crate) struct ReplayStats {
    /// Keys held.
    pub(crate) entries: usize,
    /// Buckets held.
    pub(crate) buckets: usize,
    /// The heap the keys' sets have reserved, in bytes (an estimate: slots × (key + control byte)).
    pub(crate) heap_bytes: usize,
}

impl Default for UsedLogins {
    fn default() -> Self {
        Self::with_cap(MAX_ENTRIES)
    }
}

impl UsedLogins {
    /// A record holding at most `cap` logins (at least 1).
    pub(crate) fn with_cap(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            buckets: Mutex::new(Buckets::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the login whose state is `state` as used; `false` if it already was.
    /// `expires_at` (Unix seconds) is when its cookie stops being accepted anyway.
    pub(crate) fn claim(&self, state: &str, expires_at: u64, now: u64) -> bool {
        self.claim_key(login_key(state), expires_at, now)
    }

    /// [`claim`](Self::claim) by key.
    pub(crate) fn claim_key(&self, key: LoginKey, expires_at: u64, now: u64) -> bool {
        let bucket = expires_at / BUCKET_SECS;
        let mut b = self.lock();
        b.drop_expired(now);
        if expires_at < now {
            // Past its expiry: nothing to remember, and the cookie is refused anyway.
            return b.by_expiry.get(&bucket).is_none_or(|s| !s.contains(&key));
        }
        if b.by_expiry.get(&bucket).is_some_and(|s| s.contains(&key)) {
            return false;
        }
        if b.len >= self.cap {
            // Forget a slice of the logins closest to expiry (a sixteenth of the cap, so
            // the cost is spread over many claims), never a whole bucket at once: a fast
            // flood fills one bucket, and dropping it would forget nearly everything.
            let evicted = b.evict_oldest((self.cap / 16).max(1));
            tracing::warn!(
                target: "idme::flow",
                evicted,
                cap = self.cap,
                "single-use login record full (a flood of unfinished logins?): forgetting the logins closest to expiry"
            );
        }
        b.by_expiry.entry(bucket).or_default().insert(key);
        b.len += 1;
        true
    }

    /// Whether the login whose state is `state` was used, recording nothing: a state no
    /// login of this engine had (a foreign one) must not take room in the record.
    pub(crate) fn was_used(&self, state: &str, now: u64) -> bool {
        let key = login_key(state);
        let mut b = self.lock();
        b.drop_expired(now);
        b.by_expiry.values().any(|s| s.contains(&key))
    }

    /// Counts and sizes.
    #[cfg_attr(not(any(test, feature = "test-util")), allow(dead_code))]
    pub(crate) fn stats(&self) -> ReplayStats {
        let b = self.lock();
        ReplayStats {
            entries: b.len,
            buckets: b.by_expiry.len(),
            heap_bytes: b
                .by_expiry
                .values()
                .map(|s| s.capacity() * (size_of::<LoginKey>() + 1))
                .sum(),
        }
    }
}

impl Buckets {
    /// Forgets up to `n` keys, from the bucket closest to expiry onwards; returns how many.
    fn evict_oldest(&mut self, n: usize) -> usize {
        let mut evicted = 0;
        while evicted < n {
            let Some(mut oldest) = self.by_expiry.first_entry() else {
                break;
            };
            let set = oldest.get_mut();
            let victims: Vec<LoginKey> = set.iter().take(n - evicted).copied().collect();
            for v in &victims {
                set.remove(v);
            }
            evicted += victims.len();
            if set.is_empty() {
                oldest.remove();
            }
        }
        self.len -= evicted;
        evicted
    }

    /// Drops every bucket whose logins have all expired (expiry before `now`).
    fn drop_expired(&mut self, now: u64) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if (entry.key() + 1) * BUCKET_SECS > now {
                break;
            }
            self.len -= entry.remove().len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> LoginKey {
        let mut k = [0u8; 12];
        k[..4].copy_from_slice(&i.to_be_bytes());
        k
    }

    #[test]
    fn the_key_is_the_cookie_names_bytes() {
        let k = login_key("some-state");
        assert_eq!(
            hex::encode(k),
            super::super::pending::login_id("some-state")
        );
        assert_ne!(k, login_key("other-state"));
    }

    #[test]
    fn a_login_is_claimed_once() {
        let u = UsedLogins::default();
        assert!(u.claim("a", 100, 10));
        assert!(!u.claim("a", 100, 20), "replay refused");
        assert!(!u.claim("a", 100, 100), "until its expiry, included");
        assert!(u.claim("b", 100, 20));
        assert_eq!(u.stats().entries, 2);
    }

    #[test]
    fn expired_buckets_are_dropped_whole() {
        let u = UsedLogins::default();
        for i in 0..100 {
            assert!(u.claim_key(key(i), 1_000 + u64::from(i % 8), 900));
        }
        assert!(u.claim_key(key(1_000), 5_000, 900));
        assert_eq!(u.stats().entries, 101);
        // Every login of the first batch has expired by 1_010: one claim drops them all.
        assert!(u.claim_key(key(1_001), 5_000, 1_010));
        let s = u.stats();
        assert_eq!((s.entries, s.buckets), (2, 1));
        // After expiry the login may be "claimed" again (its cookie is refused by then).
        assert!(u.claim_key(key(0), 1_000, 1_010));
        assert!(!u.claim_key(key(1_000), 5_000, 1_010), "the live one stays");
    }

    #[test]
    fn the_cap_evicts_from_the_bucket_closest_to_expiry_and_never_refuses() {
        let u = UsedLogins::with_cap(100);
        let now = 1_000;
        // 50 logins expiring soon, 50 later.
        for i in 0..50 {
            assert!(u.claim_key(key(i), now + 10, now));
        }
        for i in 50..100 {
            assert!(u.claim_key(key(i), now + 500, now));
        }
        assert_eq!(u.stats().entries, 100);
        // Full: a new login is still accepted; a sixteenth of the cap (6) is forgotten,
        // all from the soonest bucket.
        assert!(u.claim_key(key(100), now + 600, now));
        let s = u.stats();
        assert_eq!(s.entries, 95);
        for i in 50..100 {
            assert!(!u.claim_key(key(i), now + 500, now), "kept: still refused");
        }
        // None of the later 50 was forgotten (each is still refused, nothing was added),
        // so the 6 came from the soonest bucket.
        assert_eq!(u.stats().entries, 95);
        assert!(!u.claim_key(key(100), now + 600, now));
        // Whatever the flood, it never holds more than the cap.
        for i in 1_000..5_000 {
            assert!(u.claim_key(key(i), now + 600, now));
            assert!(u.stats().entries <= 100);
        }
    }
}
