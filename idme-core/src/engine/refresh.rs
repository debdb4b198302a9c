//! Refreshing a session's tokens: once per session at a time in a process, once across
//! the instances sharing a session store, and the outcome reused by the requests that
//! still carry the session as it was.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use tracing::Instrument;

use super::state::Inner;
use crate::error::Error;
use crate::flow::driver;
use crate::metrics::RefreshOutcome as Counted;
use crate::session::Session;
use crate::session::bookkeeping::{Done, REFRESH_GRACE_SECS, RefreshOutcome};
use crate::session::shared_refresh::{self, Turn};

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
                    return remember(
                        &mut done,
                        from,
                        now,
                        RefreshOutcome::Refreshed(Arc::from(s)),
                    );
                }
                Turn::Ended => return remember(&mut done, from, now, RefreshOutcome::Ended),
                // Not remembered: the next request tries again.
                Turn::Down(e) => {
                    crate::metrics::refresh(Counted::StoreUnavailable);
                    return RefreshOutcome::StoreDown(e);
                }
                Turn::Waited => return RefreshOutcome::Unavailable,
            }
        }
        None => None,
    };
    let outcome = fresh(inner, session, rt, now)
        .instrument(crate::trace::refresh())
        .await;
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

/// Counts a refresh at the provider in `idme_refreshes_total` and records its outcome on
/// the current (`idme.refresh`) span.
fn counted(outcome: Counted) {
    crate::metrics::refresh(outcome);
    let ok = outcome == Counted::Success;
    crate::trace::outcome(&tracing::Span::current(), outcome.as_str(), ok);
}

/// Refreshes at the provider and saves the result (store mode), counted.
async fn fresh(
    inner: &Inner,
    session: &Session,
    rt: &crate::secret::RefreshToken,
    now: u64,
) -> RefreshOutcome {
    match driver::refresh(
        inner.deps(),
        rt,
        &session.sub,
        session.nonce.as_deref(),
        now,
    )
    .await
    {
        Ok(crate::flow::refresh::Refreshed { tokens, claims }) => {
            let mut s = session.clone();
            s.access_token = Some(tokens.access_token);
            s.refresh_token = tokens.refresh_token;
            s.access_expires_at = tokens.access_expires_at;
            if let Some(claims) = claims {
                s.claims
                    .extend(crate::session::user_claims(Some(claims), None));
            }
            tracing::debug!(target: "idme::session", sub = %s.sub, "tokens refreshed");
            match &inner.config.session_store {
                // Only a record still there: a logout during the refresh is not undone.
                Some(store) => match store.update(&s.to_record(&inner.config)).await {
                    Ok(true) => {
                        counted(Counted::Success);
                        // Just written to the store.
                        keep_copy(inner, &s);
                        RefreshOutcome::Refreshed(Arc::new(s))
                    }
                    Ok(false) => {
                        counted(Counted::SessionEnded);
                        tracing::info!(target: "idme::session", sub = %s.sub, "session ended during its refresh; not re-created");
                        RefreshOutcome::Ended
                    }
                    Err(e) => {
                        counted(Counted::StoreUnavailable);
                        tracing::error!(target: "idme::session", error = %e, "refreshed session could not be saved");
                        RefreshOutcome::StoreDown(e)
                    }
                },
                None => {
                    counted(Counted::Success);
                    RefreshOutcome::Refreshed(Arc::new(s))
                }
            }
        }
        Err(e) if keeps_session(&e) => {
            counted(Counted::ProviderUnavailable);
            tracing::warn!(target: "idme::session", sub = %session.sub, error = %e, "token refresh failed; keeping the session and retrying later");
            RefreshOutcome::Unavailable
        }
        Err(e) => {
            counted(Counted::Refused);
            tracing::info!(target: "idme::session", sub = %session.sub, error = %e, "token refresh refused; ending the session");
            RefreshOutcome::Ended
        }
    }
}
