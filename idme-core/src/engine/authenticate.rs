//! The session of one request: opened from the cookie or loaded from the store, checked
//! against its lifetimes and logouts, refreshed when due, or ended for good.

use std::sync::Arc;
// The age of a local copy of a stored session (see `stored_copies`), not protocol time.
use std::time::Instant;

use super::refresh;
use super::state::Inner;
use crate::cookies::RequestCookies;
use crate::error::{Error, Unauthenticated};
use crate::session::Session;
use crate::session::bookkeeping::RefreshOutcome;
use crate::user::IdmeUser;
use crate::user::{Authenticated, Denied};

/// The last-seen time of a session is re-issued at most this often (seconds).
const LAST_SEEN_STEP: u64 = 60;

/// What [`Idme::authenticate`](crate::Idme::authenticate) does, at `now`.
pub(crate) async fn authenticate(
    inner: &Inner,
    cookies: &RequestCookies,
    now: u64,
) -> Result<Authenticated, Denied> {
    let config = &inner.config;
    let denied = |error: Error| Denied {
        set_cookies: match &error {
            Error::Unauthenticated(Unauthenticated::NoSession)
            | Error::SessionStoreUnavailable(_) => Vec::new(),
            _ => Session::clear_cookies(config, cookies),
        },
        error,
    };
    let mut session = load(inner, cookies, now).await.map_err(|e| {
        if e == Error::Unauthenticated(Unauthenticated::Expired) {
            crate::metrics::sessions_ended(crate::metrics::EndReason::Expiry);
        }
        denied(e)
    })?;
    // `session` is shared with the cache: changes below copy it first.
    let mut reseal = false;
    let set_cookies_for = |session: &Arc<Session>, source: &Arc<Session>| {
        // A client that ignores `Set-Cookie` presents the same cookie again: the same
        // value goes back, sealed once, and opens without a decryption when it returns.
        let (value, sealed) = inner
            .sessions
            .sealed
            .get_or_seal(source, session, || session.sealed(config));
        if sealed && config.session_store.is_none() {
            inner.opened.insert(&value, Arc::clone(session), |s| {
                s.check_lifetime(config, now).is_ok()
            });
        }
        session.cookies_carrying(&value, config, cookies, now)
    };
    let refresh_due = session.refresh_token.is_some()
        && session
            .access_expires_at
            .is_some_and(|t| t <= now + config.refresh_margin.as_secs());
    if refresh_due {
        match refresh::refresh(inner, &session, now).await {
            // Logged out (cookie store) while the refresh waited: stays logged out.
            RefreshOutcome::Refreshed(_)
                if config.session_store.is_none() && inner.sessions.is_revoked(&session) =>
            {
                return Err(denied(Unauthenticated::Ended.into()));
            }
            // The request already carries the refreshed tokens (its cookie was renewed
            // within the grace period): nothing to renew.
            RefreshOutcome::Refreshed(s) if same_refresh_token(&s, &session) => {}
            RefreshOutcome::Refreshed(s) => {
                session = s;
                reseal = config.session_store.is_none();
            }
            RefreshOutcome::Ended => {
                forget(inner, &session, now).await;
                return Err(denied(Unauthenticated::Ended.into()));
            }
            RefreshOutcome::Unavailable => {}
            RefreshOutcome::StoreDown(e) => return Err(denied(e.into())),
        }
    }
    // The session as opened or refreshed, before its last-seen time changes.
    let source = Arc::clone(&session);
    if config.session_idle_timeout.is_some() && now >= session.last_seen + LAST_SEEN_STEP {
        Arc::make_mut(&mut session).last_seen = now;
        match &config.session_store {
            // Only a record still there: a logout meanwhile is not undone.
            Some(store) => {
                let alive = store
                    .update(&session.to_record(config))
                    .await
                    .map_err(|e| denied(e.into()))?;
                if !alive {
                    inner.sessions.stored.remove(&session.sid);
                    return Err(denied(Unauthenticated::Ended.into()));
                }
                inner.sessions.stored.put(
                    Arc::clone(&session),
                    Instant::now(),
                    config.session_store_cache,
                );
            }
            None => reseal = true,
        }
    }
    let set_cookies = if reseal {
        set_cookies_for(&session, &source)
    } else {
        Vec::new()
    };
    Ok(Authenticated {
        user: IdmeUser::from_shared(session, Some(now)),
        set_cookies,
    })
}

/// Whether `a` and `b` hold the same refresh token.
fn same_refresh_token(a: &Session, b: &Session) -> bool {
    fn secret(s: &Session) -> Option<&str> {
        s.refresh_token.as_ref().map(|t| t.secret())
    }
    secret(a) == secret(b)
}

/// The session of a request, alive and not logged out, before any refresh.
pub(crate) async fn load(
    inner: &Inner,
    cookies: &RequestCookies,
    now: u64,
) -> Result<Arc<Session>, Error> {
    let config = &inner.config;
    match &config.session_store {
        None => {
            let session = Session::from_cookies_cached(config, cookies, &inner.opened, now)?;
            if inner.sessions.is_revoked(&session) {
                return Err(Unauthenticated::Ended.into());
            }
            Ok(session)
        }
        Some(store) => {
            let id = Session::id_from_cookies(config, cookies)?;
            let at = Instant::now();
            if let Some(session) = inner
                .sessions
                .stored
                .get(&id, at, config.session_store_cache)
                && session.check_lifetime(config, now).is_ok()
            {
                return Ok(session);
            }
            let record = store.load(&id).await?.ok_or(Unauthenticated::Ended)?;
            let session = Session::from_record(config, &record).ok_or(Unauthenticated::Invalid)?;
            if let Err(e) = session.check_lifetime(config, now) {
                if let Err(e) = store.delete(&id).await {
                    tracing::warn!(target: "idme::session", error = %e, "expired session not deleted");
                }
                return Err(e.into());
            }
            let session = Arc::new(session);
            inner
                .sessions
                .stored
                .put(Arc::clone(&session), at, config.session_store_cache);
            Ok(session)
        }
    }
}

/// Ends `session` for good: deleted from the store, or (cookie store) revoked in this
/// process until it would have expired anyway.
/// Ends every session of `sub` (signing out everywhere): deleted from the store, or,
/// with the cookie store, revoked in this instance's bookkeeping until they would have
/// ended.
pub(crate) async fn forget_person(
    inner: &Inner,
    sub: &str,
    now: u64,
) -> Result<(), crate::store::StoreError> {
    inner.sessions.stored.remove_matching(Some(sub), None);
    match &inner.config.session_store {
        Some(store) => store.delete_by_sub(sub).await.map(drop),
        None => {
            let until = now + inner.config.session_lifetime.as_secs();
            inner.sessions.revoke(format!("sub:{sub}"), now, until);
            Ok(())
        }
    }
}

pub(crate) async fn forget(inner: &Inner, session: &Session, now: u64) {
    match &inner.config.session_store {
        Some(store) => {
            inner.sessions.stored.remove(&session.sid);
            if let Err(e) = store.delete(&session.sid).await {
                tracing::warn!(target: "idme::session", error = %e, "session not deleted from the store");
            }
        }
        None => {
            inner.sessions.sealed.remove(&session.sid);
            inner
                .sessions
                .revoke(format!("sid:{}", session.sid), now, session.expires_at)
        }
    }
}
