//! The `IdmeUser` extractor and its rejection.

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use idme_core::require::Verify;
use idme_core::{Authenticated, Denied, Idme, Reply};

use crate::layer::CookieSlot;
use crate::{cookies, into_response};

/// The signed-in user. As an extractor it opens the session (the cookie; the store if
/// one is configured) and refreshes tokens about to expire; cookies that produces are set
/// on the response by [`IdmeLayer`](crate::IdmeLayer). Without a session, browsers are
/// redirected to sign in and API clients get `401` JSON; a session store that is down
/// gives `503`. Use `Option<IdmeUser>` where signing in is optional.
#[derive(Debug, Clone)]
pub struct IdmeUser(pub idme_core::IdmeUser);

impl Deref for IdmeUser {
    type Target = idme_core::IdmeUser;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Why [`IdmeUser`] could not be extracted. Responds with what the engine decides.
#[derive(Debug)]
pub struct IdmeRejection(Reply);

impl IdmeRejection {
    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.0.status
    }
}

impl IntoResponse for IdmeRejection {
    fn into_response(self) -> Response {
        into_response(self.0)
    }
}

/// The 500 answered when the engine was not shared with `IdmeLayer`.
pub(crate) fn missing_layer() -> IdmeRejection {
    tracing::error!(target: "idme::rejection", "no Idme engine in the request: is `IdmeLayer` enabled?");
    IdmeRejection(Reply::html(
        500,
        "Missing request extension: Idme engine. Is `IdmeLayer` enabled?".into(),
    ))
}

/// The user, or why there is none. A user already found for this request (by
/// [`RequireUserLayer`](crate::RequireUserLayer) or another extractor) is reused.
async fn lookup(parts: &mut Parts) -> Result<Result<IdmeUser, (Idme, Denied)>, IdmeRejection> {
    if let Some(user) = parts.extensions.get::<IdmeUser>() {
        return Ok(Ok(user.clone()));
    }
    let idme = parts
        .extensions
        .get::<Idme>()
        .cloned()
        .ok_or_else(missing_layer)?;
    let slot = parts
        .extensions
        .get::<CookieSlot>()
        .cloned()
        .ok_or_else(missing_layer)?;
    Ok(match idme.authenticate(&cookies(&parts.headers)).await {
        Ok(Authenticated { user, set_cookies }) => {
            slot.extend(set_cookies);
            let user = IdmeUser(user);
            parts.extensions.insert(user.clone());
            Ok(user)
        }
        Err(denied) => Err((idme, denied)),
    })
}

/// The engine's answer to a request without a usable session.
pub(crate) fn unauthenticated(idme: &Idme, denied: Denied, parts: &Parts) -> Reply {
    tracing::trace!(target: "idme::rejection", reason = %denied.error, "no signed-in user");
    let (accept, path) = accept_and_path(parts);
    idme.unauthenticated(denied, accept, path)
}

/// The `Accept` header and the original path and query of a request.
fn accept_and_path(parts: &Parts) -> (Option<&str>, &str) {
    let accept = parts
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(&parts.uri, |o| &o.0)
        .path_and_query()
        .map_or("/", |p| p.as_str());
    (accept, path)
}

impl<S: Send + Sync> FromRequestParts<S> for IdmeUser {
    type Rejection = IdmeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match lookup(parts).await? {
            Ok(user) => Ok(user),
            Err((idme, denied)) => Err(IdmeRejection(unauthenticated(&idme, denied, parts))),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for IdmeUser {
    type Rejection = IdmeRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match lookup(parts).await? {
            Ok(user) => Ok(Some(user)),
            Err((idme, denied)) if denied.is_unavailable() => {
                Err(IdmeRejection(unauthenticated(&idme, denied, parts)))
            }
            Err((_, denied)) => {
                if let Some(slot) = parts.extensions.get::<CookieSlot>() {
                    slot.extend(denied.set_cookies);
                }
                Ok(None)
            }
        }
    }
}

/// A signed-in user who meets the verification requirement `R` (e.g.
/// `Verified<idme_core::require::Veteran>`). Without a session it rejects like
/// [`IdmeUser`]; a user who lacks the verification gets `403` with an offer to verify with
/// ID.me (an HTML page for browsers, JSON for API clients).
pub struct Verified<R> {
    /// The user.
    pub user: IdmeUser,
    _requirement: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for Verified<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Verified").field(&self.user).finish()
    }
}

impl<R> Deref for Verified<R> {
    type Target = idme_core::IdmeUser;
    fn deref(&self) -> &Self::Target {
        &self.user.0
    }
}

impl<S: Send + Sync, R: Verify> FromRequestParts<S> for Verified<R> {
    type Rejection = IdmeRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = <IdmeUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        let idme = parts.extensions.get::<Idme>().ok_or_else(missing_layer)?;
        let (accept, path) = accept_and_path(parts);
        idme.require(&user, &R::requirement(), accept, path)
            .map_err(IdmeRejection)?;
        Ok(Verified {
            user,
            _requirement: PhantomData,
        })
    }
}
