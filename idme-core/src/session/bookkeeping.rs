//! Per-process session bookkeeping: the outcome of each session's latest refresh (for
//! single-flight), the revocation list of the cookie store, the `jti`s of back-channel
//! logout tokens already used (and of security events claimed without a store), and the
//! local copies of stored sessions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::Session;
use crate::store::StoreError;

/// How long the outcome of a refresh is reused by requests that still carry the session
/// as it was before (the old cookie, whose refresh token the provider has rotated away).
pub(crate) const REFRESH_GRACE_SECS: u64 = 30;

/// What a refresh did.
#[derive(Clone)]
pub(crate) enum RefreshOutcome {
    /// New tokens (already saved to the store, if there is one).
    Refreshed(Arc<Session>),
    /// The provider refused the refresh token (`invalid_grant`, …), or the session was
    /// logged out while the refresh waited: the session is over.
    Ended,
    /// The provider could not be reached: keep the session, try again later.
    Unavailable,
    /// The refreshed session could not be saved.
    StoreDown(StoreError),
}

pub(crate) struct Done {
    /// SHA-256 of the refresh token that was used.
    pub(crate) from: [u8; 32],
    /// SHA-256 of the refresh token it gave (sessions already refreshed are not
    /// refreshed again within the grace period, e.g. when loaded from a store).
    pub(crate) to: Option<[u8; 32]>,
    /// Unix seconds.
    pub(crate) at: u64,
    pub(crate) outcome: RefreshOutcome,
}

pub(crate) type Slot = Arc<tokio::sync::Mutex<Option<Done>>>;

/// One revocation of the cookie store: sessions created at or before `at` are over.
#[derive(Clone, Copy)]
struct Revocation {
    at: u64,
    /// When no session it could match is still alive.
    until: u64,
}

#[derive(Default)]
pub(crate) struct Sessions {
    /// Recently loaded stored sessions (store mode).
    pub(crate) stored: super::stored_copies::StoredCopies,
    /// The latest sealed cookie value of each session (cookie store).
    pub(crate) sealed: super::sealed_copies::SealedCopies,
    refreshes: Mutex<HashMap<String, Slot>>,
    revoked: Mutex<HashMap<String, Revocation>>,
    used_jtis: Mutex<HashMap<String, u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sessions {
    pub(crate) fn slot(&self, sid: &str, now: u64) -> Slot {
        let mut map = lock(&self.refreshes);
        if map.len() > 256 {
            map.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot
                        .try_lock()
                        .map(|d| d.as_ref().is_some_and(|d| now < d.at + REFRESH_GRACE_SECS))
                        .unwrap_or(true)
            });
        }
        map.entry(sid.to_owned()).or_default().clone()
    }

    /// Ends, in this process, every session matching `key` created at or before `at`.
    /// `key` is `sub:…`, `psid:…` (provider session), `nopsid:…` (a user's sessions that
    /// carry no provider session id) or `sid:…` (one session).
    pub(crate) fn revoke(&self, key: String, at: u64, until: u64) {
        let mut map = lock(&self.revoked);
        map.retain(|_, r| r.until > at);
        map.insert(key, Revocation { at, until });
    }

    /// Whether the cookie-store session was revoked in this process.
    pub(crate) fn is_revoked(&self, session: &Session) -> bool {
        let map = lock(&self.revoked);
        if map.is_empty() {
            return false;
        }
        let hit = |key: String| map.get(&key).is_some_and(|r| session.created_at <= r.at);
        hit(format!("sid:{}", session.sid))
            || hit(format!("sub:{}", session.sub))
            || match &session.provider_sid {
                Some(p) => hit(format!("psid:{p}")),
                None => hit(format!("nopsid:{}", session.sub)),
            }
    }

    /// Whether a back-channel logout token's `jti` was already used (its logout done).
    pub(crate) fn jti_used(&self, jti: &str, now: u64) -> bool {
        lock(&self.used_jtis).get(jti).is_some_and(|u| *u > now)
    }

    /// Claims `key` until `until` unless it is already held at `now`: `false` when it is
    /// (a security event's `jti` seen before). Checked and recorded under one lock, so two
    /// concurrent deliveries of one event are not both processed.
    pub(crate) fn claim_jti(&self, key: &str, until: u64, now: u64) -> bool {
        let mut map = lock(&self.used_jtis);
        if map.get(key).is_some_and(|u| *u > now) {
            return false;
        }
        map.retain(|_, u| *u > now);
        map.insert(key.to_owned(), until);
        true
    }

    /// Releases a claim of [`claim_jti`](Self::claim_jti) whose processing failed, so the
    /// transmitter's retry is processed.
    pub(crate) fn release_jti(&self, key: &str) {
        lock(&self.used_jtis).remove(key);
    }

    /// Records a back-channel logout token's `jti`, once its logout is done (so a retry
    /// after a failure is not taken for a replay), until `until`.
    pub(crate) fn record_jti(&self, jti: &str, until: u64, now: u64) {
        let mut map = lock(&self.used_jtis);
        map.retain(|_, u| *u > now);
        map.insert(jti.to_owned(), until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(sub: &str, psid: Option<&str>, created_at: u64) -> Session {
        Session {
            provider_sid: psid.map(str::to_owned),
            ..Session::for_tests(&format!("sid-{sub}-{psid:?}"), sub, created_at)
        }
    }

    #[test]
    fn a_users_sessions_without_a_provider_session_can_be_revoked_alone() {
        let s = Sessions::default();
        s.revoke("nopsid:u".into(), 100, 4000);
        assert!(s.is_revoked(&session("u", None, 50)));
        assert!(
            !s.is_revoked(&session("u", Some("p"), 50)),
            "has its own psid"
        );
        assert!(!s.is_revoked(&session("v", None, 50)), "another user");
        assert!(
            !s.is_revoked(&session("u", None, 150)),
            "signed in afterwards"
        );
    }

    #[test]
    fn a_claimed_jti_is_held_until_released_or_expired() {
        let s = Sessions::default();
        assert!(s.claim_jti("k", 100, 10));
        assert!(!s.claim_jti("k", 100, 20), "held");
        s.release_jti("k");
        assert!(s.claim_jti("k", 100, 30), "released");
        assert!(s.claim_jti("k", 200, 100), "expired");
    }

    #[test]
    fn a_jti_counts_as_used_only_once_recorded() {
        let s = Sessions::default();
        assert!(!s.jti_used("j", 10));
        assert!(!s.jti_used("j", 10), "checking does not record");
        s.record_jti("j", 100, 10);
        assert!(s.jti_used("j", 20));
        assert!(
            !s.jti_used("j", 100),
            "forgotten once it could not be replayed anyway"
        );
    }
}
