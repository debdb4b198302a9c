//! A bearer request's user: the person behind an app access token, showing only what the
//! grant was given.

// The age of a local copy (see `bearer_cache`), not protocol time.
use std::time::Instant;

use super::metrics::{self, Rejection};
use super::{codes, tokens};
use crate::Apps;
use crate::server::Inner;
use idme_core::{Error, IdmeUser, Unauthenticated};

/// The user of an app access token, at the engine's time: reused from this instance's
/// copy for up to the engine's `session_store_cache`, else read from the store.
pub(crate) async fn authenticate(
    inner: &Inner<'_>,
    apps: &Apps,
    token: &str,
) -> Result<IdmeUser, Error> {
    let now = inner.config.clock.now();
    let refused = |reason: Rejection| {
        metrics::rejected(reason);
        Unauthenticated::InvalidToken.into()
    };
    let fresh_for = inner.config.bearer_cache;
    let at = Instant::now();
    if let Some(id) = tokens::family_of(token)
        && let Some((user, expires_at)) = apps.bearers.get(id, &codes::hash(token), at, fresh_for)
    {
        if expires_at <= now {
            return Err(refused(Rejection::Expired));
        }
        return Ok(user);
    }
    let epoch = apps.bearers.epoch();
    let checked = tokens::check_access(apps, &inner.config.cookie_keys, token, now).await;
    match checked {
        Ok(Ok((id, family))) => {
            let user = family.person.user(
                &id,
                family.created_at,
                family.access_expires_at,
                &family.scope,
            );
            apps.bearers.put(
                epoch,
                &id,
                &family.access_hash,
                // Whichever ends first: the token, or its grant (a short refresh lifetime).
                family.access_expires_at.min(family.expires_at),
                &user,
                at,
                fresh_for,
            );
            Ok(user)
        }
        Ok(Err(tokens::Refused::Expired)) => Err(refused(Rejection::Expired)),
        Ok(Err(tokens::Refused::Invalid)) => Err(refused(Rejection::InvalidToken)),
        Err(e) => {
            metrics::rejected(Rejection::StoreUnavailable);
            Err(e.into())
        }
    }
}
