//! A bearer request's user: the person behind an app access token, showing only what the
//! grant was given.

use super::metrics::{self, Rejection};
use super::tokens;
use crate::Apps;
use crate::server::Inner;
use idme_core::{Error, IdmeUser, Unauthenticated};

/// The user of an app access token, at the engine's time.
pub(crate) async fn authenticate(
    inner: &Inner<'_>,
    apps: &Apps,
    token: &str,
) -> Result<IdmeUser, Error> {
    let now = inner.config.clock.now();
    let checked = tokens::check_access(apps, &inner.config.cookie_keys, token, now).await;
    let refused = |reason: Rejection| {
        metrics::rejected(reason);
        Unauthenticated::InvalidToken.into()
    };
    match checked {
        Ok(Ok((id, family))) => Ok(family.person.user(
            &id,
            family.created_at,
            family.access_expires_at,
            &family.scope,
        )),
        Ok(Err(tokens::Refused::Expired)) => Err(refused(Rejection::Expired)),
        Ok(Err(tokens::Refused::Invalid)) => Err(refused(Rejection::InvalidToken)),
        Err(e) => {
            metrics::rejected(Rejection::StoreUnavailable);
            Err(e.into())
        }
    }
}
