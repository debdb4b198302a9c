//! The `IdmeUser`, `Verified<R>`, `Fresh<N>` and `Assured<A>` extractors and their rejection.

use std::future::Future;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use idme_core::adapter::{GuardRequest, Rejection, RequestAuth, missing_setup};
use idme_core::cross_site::Provenance;
use idme_core::require::{Assurance, Verify};

use crate::{cookies, into_response};

idme_core::adapter_types! {
    /// The signed-in user, found once per request: the extractor opens the session (the
    /// cookie; the store if one is configured) and refreshes tokens about to expire;
    /// [`IdmeMiddleware`](crate::IdmeMiddleware), which must wrap the app, sets the cookies
    /// that produces. Without a session, browsers are redirected to sign in and
    /// API clients get `401` JSON; a session store that is down gives `503`.
    ///
    /// `Option<IdmeUser>` gives `None` when nobody is signed in. actix-web's blanket
    /// `Option<T>` extractor turns every error into `None`, so an outage (the session store
    /// down, the engine not registered) is answered by [`IdmeMiddleware`](crate::IdmeMiddleware)
    /// instead of the handler's response: `503` or `500`, never a silent anonymous user.
    ///
    /// With an extension that issues bearer tokens registered (`idme-apps`' `AppServer`),
    /// an `Authorization: Bearer` token it recognizes authenticates the request instead of
    /// the cookie (any other `Authorization` value is ignored and the cookie decides); a
    /// bad, expired or revoked one is `401` with
    /// `WWW-Authenticate: Bearer error="invalid_token"`, also behind `Option<IdmeUser>`
    /// (the middleware answers it).
    pub struct IdmeUser;
    pub struct Verified;
    pub struct IdmeRejection;
}

/// The engine's default answer ([`IdmeRejection::reply`]).
impl ResponseError for IdmeRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.reply().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        into_response(self.reply().clone())
    }
}

pub(crate) type LocalBoxFuture<T> = std::pin::Pin<Box<dyn Future<Output = T>>>;

/// The setup call named by the `500` a request without the engine gets.
pub(crate) const SETUP: &str = "App::new().configure(idme_actix::configure(&idme))";

/// The request's sign-in state, put there by [`IdmeMiddleware`](crate::IdmeMiddleware).
fn auth(req: &HttpRequest) -> Result<RequestAuth, Rejection> {
    let auth = req.extensions().get::<RequestAuth>().cloned();
    auth.ok_or_else(|| {
        let setup = "App::new().wrap(idme_actix::IdmeMiddleware)";
        missing_setup("request state of `IdmeMiddleware`", setup)
    })
}

/// The request as the guards see it.
fn guarded(req: &HttpRequest) -> GuardRequest<'_> {
    GuardRequest {
        idme: crate::engine(req),
        setup: SETUP,
        accept: req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
        path_and_query: req.uri().path_and_query().map_or("/", |p| p.as_str()),
        authorization: text(req, header::AUTHORIZATION),
        method: req.method().as_str(),
        provenance: Provenance {
            origin: text(req, header::ORIGIN),
            sec_fetch_site: text(req, "sec-fetch-site"),
        },
        sec_fetch_mode: text(req, "sec-fetch-mode"),
    }
}

/// A header's value, when it is text.
fn text(req: &HttpRequest, name: impl header::AsHeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The signed-in user of `req`, or the engine's answer to send instead.
pub(crate) async fn lookup(req: &HttpRequest) -> Result<IdmeUser, Rejection> {
    let auth = auth(req)?;
    auth.user(&guarded(req), || cookies(req))
        .await
        .map(IdmeUser)
}

impl FromRequest for IdmeUser {
    type Error = IdmeRejection;
    type Future = LocalBoxFuture<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { lookup(&req).await.map_err(IdmeRejection::from) })
    }
}

impl<R: Verify> FromRequest for Verified<R> {
    type Error = IdmeRejection;
    type Future = LocalBoxFuture<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (auth, requirement) = (auth(&req)?, R::requirement());
            let guarded = guarded(&req);
            let user = auth
                .verified(&guarded, || cookies(&req), &requirement)
                .await;
            user.map(Verified::from).map_err(IdmeRejection::from)
        })
    }
}

impl<const MAX_AGE: u64> FromRequest for Fresh<MAX_AGE> {
    type Error = IdmeRejection;
    type Future = LocalBoxFuture<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let auth = auth(&req)?;
            let user = auth.fresh(&guarded(&req), || cookies(&req), MAX_AGE).await;
            user.map(Fresh::from).map_err(IdmeRejection::from)
        })
    }
}

impl<A: Assurance> FromRequest for Assured<A> {
    type Error = IdmeRejection;
    type Future = LocalBoxFuture<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let auth = auth(&req)?;
            let user = auth
                .assured(&guarded(&req), || cookies(&req), A::ACR_VALUES)
                .await;
            user.map(Assured::from).map_err(IdmeRejection::from)
        })
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

impl FromRequest for SameOrigin {
    type Error = IdmeRejection;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let checked = auth(req).and_then(|auth| auth.same_origin(&guarded(req)));
        std::future::ready(checked.map(|()| SameOrigin).map_err(IdmeRejection::from))
    }
}
