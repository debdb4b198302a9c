//! The `IdmeUser`, `Option<IdmeUser>`, `Verified<R>`, `Fresh<N>` and `Assured<A>` extractors and their
//! rejection.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use idme_core::Idme;
use idme_core::adapter::{GuardRequest, RequestAuth};
use idme_core::cross_site::Provenance;
use idme_core::require::{Assurance, Verify};

use crate::{cookies, into_response};

idme_core::adapter_types! {
    /// The signed-in user. As an extractor it opens the session (the cookie; the store if
    /// one is configured) and refreshes tokens about to expire, once per request; cookies
    /// that produces are set on the response by [`IdmeLayer`](crate::IdmeLayer). Without a
    /// session, browsers are redirected to sign in and API clients get `401` JSON; a
    /// session store that is down gives `503`. Use `Option<IdmeUser>` where signing in is
    /// optional: `None` when nobody is signed in, still `503` when the store is down.
    ///
    /// With an extension that issues bearer tokens registered (`idme-apps`' `AppServer`),
    /// an `Authorization: Bearer` token it recognizes authenticates the request instead of
    /// the cookie (any other `Authorization` value is ignored and the cookie decides); a
    /// bad, expired or revoked one is `401` with
    /// `WWW-Authenticate: Bearer error="invalid_token"`, also for `Option<IdmeUser>`.
    pub struct IdmeUser;
    pub struct Verified;
    pub struct IdmeRejection;
}

/// The engine's default answer ([`IdmeRejection::into_reply`]).
impl IntoResponse for IdmeRejection {
    fn into_response(self) -> Response {
        into_response(self.into_reply())
    }
}

/// The setup call named by the `500` a request without the engine gets.
const SETUP: &str = ".layer(idme_axum::IdmeLayer::new(idme))";

/// A header's value, when it is text.
fn header(parts: &Parts, name: impl http::header::AsHeaderName) -> Option<&str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request's sign-in state (a throwaway one without [`IdmeLayer`](crate::IdmeLayer))
/// and the request as the guards see it.
pub(crate) fn guard(parts: &Parts) -> (RequestAuth, GuardRequest<'_>) {
    let auth = parts.extensions.get::<RequestAuth>().cloned();
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(&parts.uri, |o| &o.0)
        .path_and_query();
    let req = GuardRequest {
        idme: parts.extensions.get::<Idme>(),
        setup: SETUP,
        accept: parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
        path_and_query: path.map_or("/", |p| p.as_str()),
        authorization: header(parts, http::header::AUTHORIZATION),
        method: parts.method.as_str(),
        provenance: Provenance {
            origin: header(parts, http::header::ORIGIN),
            sec_fetch_site: header(parts, "sec-fetch-site"),
        },
        sec_fetch_mode: header(parts, "sec-fetch-mode"),
    };
    (auth.unwrap_or_default(), req)
}

impl<S: Send + Sync> FromRequestParts<S> for IdmeUser {
    type Rejection = IdmeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (auth, req) = guard(parts);
        Ok(auth.user(&req, || cookies(&parts.headers)).await?.into())
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for IdmeUser {
    type Rejection = IdmeRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let (auth, req) = guard(parts);
        let user = auth.optional_user(&req, || cookies(&parts.headers)).await?;
        Ok(user.map(IdmeUser))
    }
}

impl<S: Send + Sync, R: Verify> FromRequestParts<S> for Verified<R> {
    type Rejection = IdmeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (auth, req) = guard(parts);
        let requirement = R::requirement();
        let user = auth.verified(&req, || cookies(&parts.headers), &requirement);
        Ok(user.await?.into())
    }
}

impl<S: Send + Sync, const MAX_AGE: u64> FromRequestParts<S> for Fresh<MAX_AGE> {
    type Rejection = IdmeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (auth, req) = guard(parts);
        let user = auth.fresh(&req, || cookies(&parts.headers), MAX_AGE);
        Ok(user.await?.into())
    }
}

impl<S: Send + Sync, A: Assurance> FromRequestParts<S> for Assured<A> {
    type Rejection = IdmeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (auth, req) = guard(parts);
        let user = auth.assured(&req, || cookies(&parts.headers), A::ACR_VALUES);
        Ok(user.await?.into())
    }
}

/// A guard for a route that acts with the session cookie without asking for the user
/// (with [`IdmeUser`] or [`Verified`], which apply the same rule themselves): a request
/// with an unsafe method (`POST`, `PUT`, `PATCH`, `DELETE`, …) is refused with `403`
/// unless it comes from the application's own pages (`Origin`, or `Sec-Fetch-Site:
/// same-origin`) or a trusted origin; see [`idme_core::cross_site`]. Safe methods pass,
/// and so do requests with an app client's bearer token (no ambient authority).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SameOrigin;

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = IdmeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (auth, req) = guard(parts);
        auth.same_origin(&req)?;
        Ok(SameOrigin)
    }
}
