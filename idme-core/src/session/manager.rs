//! Per-process session bookkeeping: single-flight refresh per session, the revocation
//! list of the cookie store, and the `jti`s of back-channel logout tokens already used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use super::Session;
use super::shared_refresh::{self, Turn};
use super::store::StoreError;
use crate::engine::Inner;
use crate::error::Error;
use crate::flow::driver;

/// How long the outcome of a refresh is reused by requests that still carry the session
/// as it was before (the old cookie, whose refresh token the provider has rotated away).
pub(crate) const REFRESH_GRACE_SECS: u64 = 30;

/// What a refresh did.
#[derive(Clone)]
pub(crate) enum RefreshOutcome {
    /// New tokens (already saved to the store, if there is one).
    Refreshed(Box<Session>),
    /// The provider refused the refresh token (`invalid_grant`, …), or the session was
    /// logged out while the refresh waited: the session is over.
    Ended,
    /// The provider could not be reached: keep the session, try again later.
    Unavailable,
    /// The refreshed session could not be saved.
    StoreDown(StoreError),
}

struct Done {
    /// SHA-256 of the refresh token that was used.
    from: [u8; 32],
    /// SHA-256 of the refresh token it gave (sessions already refreshed are not
    /// refreshed again within the grace period, e.g. when loaded from a store).
    to: Option<[u8; 32]>,
    /// Unix seconds.
    at: u64,
    outcome: RefreshOutcome,
}

type Slot = Arc<tokio::sync::Mutex<Option<Done>>>;

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
    refreshes: Mutex<HashMap<String, Slot>>,
    revoked: Mutex<HashMap<String, Revocation>>,
    used_jtis: Mutex<HashMap<String, u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sessions {
    fn slot(&self, sid: &str, now: u64) -> Slot {
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

    /// Records a back-channel logout token's `jti`, once its logout is done (so a retry
    /// after a failure is not taken for a replay), until `until`.
    pub(crate) fn record_jti(&self, jti: &str, until: u64, now: u64) {
        let mut map = lock(&self.used_jtis);
        map.retain(|_, u| *u > now);
        map.insert(jti.to_owned(), until);
    }
}

/// Whether a refresh failure leaves the session alive (the provider or our own
/// configuration is at fault, not the grant).
fn keeps_session(e: &Error) -> bool {
    match e {
        Error::ProviderUnavailable(_) | Error::Config(_) => true,
        // An unreadable answer (garbage, not a refusal) says nothing about the grant.
        Error::ProviderMisbehaved(m) => m.is_unreadable_answer(),
        Error::ProviderRejected { error, .. } => {
            matches!(
                error.as_str(),
                "invalid_client"
                    | "unauthorized_client"
                    | "temporarily_unavailable"
                    | "server_error"
            )
        }
        _ => false,
    }
}

/// Refreshes `session`'s tokens, once per session at a time: concurrent requests wait for
/// the first, and requests still carrying the pre-refresh session reuse its outcome for
/// [`REFRESH_GRACE_SECS`] instead of replaying a rotated-away refresh token.
pub(crate) async fn refresh(inner: &Inner, session: &Session, now: u64) -> RefreshOutcome {
    let Some(rt) = &session.refresh_token else {
        return RefreshOutcome::Unavailable;
    };
    let from: [u8; 32] = Sha256::digest(rt.secret().as_bytes()).into();
    let slot = inner.sessions.slot(&session.sid, now);
    let mut done = slot.lock().await;
    if let Some(d) = done.as_ref()
        && (d.from == from || d.to == Some(from))
        && now < d.at + REFRESH_GRACE_SECS
    {
        return d.outcome.clone();
    }
    // With a shared store, one instance at a time: the others use what it stored.
    let lock = match &inner.config.session_store {
        Some(store) => {
            match shared_refresh::take_turn(&inner.config, store, session, &from).await {
                Turn::Mine(lock) => Some(lock),
                Turn::Done(s) => {
                    tracing::debug!(target: "idme::session", sub = %s.sub, "tokens refreshed by another instance");
                    // Just read from the store.
                    keep_copy(inner, &s);
                    return remember(&mut done, from, now, RefreshOutcome::Refreshed(s));
                }
                Turn::Ended => return remember(&mut done, from, now, RefreshOutcome::Ended),
                // Not remembered: the next request tries again.
                Turn::Down(e) => return RefreshOutcome::StoreDown(e),
                Turn::Waited => return RefreshOutcome::Unavailable,
            }
        }
        None => None,
    };
    let outcome = fresh(inner, session, rt, now).await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    match outcome {
        // Not remembered: the next request tries again.
        RefreshOutcome::StoreDown(e) => RefreshOutcome::StoreDown(e),
        outcome => remember(&mut done, from, now, outcome),
    }
}

/// Keeps this instance's copy of a stored session as the store holds it now (a reused
/// outcome is not a store read, so it never extends the copy's life).
fn keep_copy(inner: &Inner, session: &Session) {
    inner.sessions.stored.put(
        Arc::new(session.clone()),
        std::time::Instant::now(),
        inner.config.session_store_cache,
    );
}

/// Keeps `outcome` for the requests that still carry the session as it was (`from`).
fn remember(
    done: &mut Option<Done>,
    from: [u8; 32],
    now: u64,
    outcome: RefreshOutcome,
) -> RefreshOutcome {
    let to = match &outcome {
        RefreshOutcome::Refreshed(s) => s
            .refresh_token
            .as_ref()
            .map(|rt| Sha256::digest(rt.secret().as_bytes()).into()),
        _ => None,
    };
    *done = Some(Done {
        from,
        to,
        at: now,
        outcome: outcome.clone(),
    });
    outcome
}

/// Refreshes at the provider and saves the result (store mode).
async fn fresh(
    inner: &Inner,
    session: &Session,
    rt: &crate::secret::RefreshToken,
    now: u64,
) -> RefreshOutcome {
    match driver::refresh(inner.env(), rt, &session.sub, session.nonce.as_deref(), now).await {
        Ok((tokens, claims)) => {
            let mut s = session.clone();
            s.access_token = Some(tokens.access_token);
            s.refresh_token = tokens.refresh_token;
            s.access_expires_at = tokens.access_expires_at;
            if let Some(claims) = claims {
                s.claims.extend(super::user_claims(Some(claims), None));
            }
            tracing::debug!(target: "idme::session", sub = %s.sub, "tokens refreshed");
            match &inner.config.session_store {
                // Only a record still there: a logout during the refresh is not undone.
                Some(store) => match store.update(&s.to_record(&inner.config)).await {
                    Ok(true) => {
                        // Just written to the store.
                        keep_copy(inner, &s);
                        RefreshOutcome::Refreshed(Box::new(s))
                    }
                    Ok(false) => {
                        tracing::info!(target: "idme::session", sub = %s.sub, "session ended during its refresh; not re-created");
                        RefreshOutcome::Ended
                    }
                    Err(e) => {
                        tracing::error!(target: "idme::session", error = %e, "refreshed session could not be saved");
                        RefreshOutcome::StoreDown(e)
                    }
                },
                None => RefreshOutcome::Refreshed(Box::new(s)),
            }
        }
        Err(e) if keeps_session(&e) => {
            tracing::warn!(target: "idme::session", sub = %session.sub, error = %e, "token refresh failed; keeping the session and retrying later");
            RefreshOutcome::Unavailable
        }
        Err(e) => {
            tracing::info!(target: "idme::session", sub = %session.sub, error = %e, "token refresh refused; ending the session");
            RefreshOutcome::Ended
        }
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
