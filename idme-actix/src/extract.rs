//! The `IdmeUser` extractor and its rejection.

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use idme_core::require::Verify;
use idme_core::{Authenticated, Denied, Idme, Reply};

use crate::middleware::CookieSlot;
use crate::{cookies, engine, into_response};

/// The signed-in user. As an extractor it opens the session (the cookie; the store if
/// one is configured) and refreshes tokens about to expire; cookies that produces are set
/// on the response by [`IdmeMiddleware`](crate::IdmeMiddleware), which must wrap the app.
/// Without a session, browsers are redirected to sign in and API clients get `401` JSON;
/// a session store that is down gives `503`. A user put there by
/// [`RequireUser`](crate::RequireUser) is reused.
///
/// `Option<IdmeUser>` gives `None` when nobody is signed in. It relies on actix-web's
/// blanket `Option<T>` extractor, which turns *every* error into `None`: when the engine
/// is not registered, or the session store is down, it is `None` too (logged under
/// `idme::rejection`), not a 500 or 503.
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

impl std::fmt::Display for IdmeRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no signed-in user (answered {})", self.0.status)
    }
}

impl ResponseError for IdmeRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        into_response(self.0.clone())
    }
}

/// The 500 answered when the engine is not in the app data.
pub(crate) fn missing_engine() -> IdmeRejection {
    tracing::error!(target: "idme::rejection", "no Idme engine in the app data: is the Idme engine registered?");
    IdmeRejection(Reply::html(
        500,
        "Missing app data: Idme engine. Is the Idme engine registered \
         (`App::new().configure(idme_actix::configure(&idme))`)?"
            .into(),
    ))
}

/// The `Accept` header and the path and query of a request.
fn accept_and_path(req: &HttpRequest) -> (Option<&str>, &str) {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    (accept, path)
}

/// The engine's answer to a request without a usable session.
pub(crate) fn unauthenticated(idme: &Idme, denied: Denied, req: &HttpRequest) -> Reply {
    tracing::trace!(target: "idme::rejection", reason = %denied.error, "no signed-in user");
    let (accept, path) = accept_and_path(req);
    idme.unauthenticated(denied, accept, path)
}

/// The 500 answered when [`IdmeMiddleware`](crate::IdmeMiddleware) does not wrap the app.
fn missing_middleware() -> IdmeRejection {
    tracing::error!(target: "idme::rejection", "no cookie slot in the request: is `IdmeMiddleware` enabled?");
    IdmeRejection(Reply::html(
        500,
        "Missing request extension: Idme cookie slot. Is `IdmeMiddleware` enabled \
         (`App::new().wrap(idme_actix::IdmeMiddleware)`)?"
            .into(),
    ))
}

pub(crate) type LocalBoxFuture<T> = std::pin::Pin<Box<dyn Future<Output = T>>>;

/// The signed-in user of `req`, or the engine's answer to send instead.
pub(crate) async fn lookup(req: HttpRequest) -> Result<IdmeUser, IdmeRejection> {
    if let Some(user) = req.extensions().get::<IdmeUser>() {
        return Ok(user.clone());
    }
    let idme = engine(&req)?.clone();
    let slot = req
        .extensions()
        .get::<CookieSlot>()
        .cloned()
        .ok_or_else(missing_middleware)?;
    match idme.authenticate(&cookies(&req)).await {
        Ok(Authenticated { user, set_cookies }) => {
            slot.extend(set_cookies);
            let user = IdmeUser(user);
            req.extensions_mut().insert(user.clone());
            Ok(user)
        }
        Err(mut denied) => {
            // Through the slot, so that `Option<IdmeUser>`, which swallows the rejection,
            // still sends the dead session's deletion.
            slot.extend(std::mem::take(&mut denied.set_cookies));
            Err(IdmeRejection(unauthenticated(&idme, denied, &req)))
        }
    }
}

impl FromRequest for IdmeUser {
    type Error = IdmeRejection;
    type Future = LocalBoxFuture<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        Box::pin(lookup(req.clone()))
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

impl<R: Verify> FromRequest for Verified<R> {
    type Error = IdmeRejection;
    type Future = LocalBoxFuture<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = lookup(req.clone()).await?;
            let idme = engine(&req)?;
            let (accept, path) = accept_and_path(&req);
            idme.require(&user, &R::requirement(), accept, path)
                .map_err(IdmeRejection)?;
            Ok(Verified {
                user,
                _requirement: PhantomData,
            })
        })
    }
}
