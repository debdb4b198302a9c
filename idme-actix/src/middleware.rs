//! [`IdmeMiddleware`]: sets the cookies the extractors produce; [`RequireUser`]:
//! middleware protecting a whole scope.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::{Error, HttpMessage, ResponseError};
use idme_core::SetCookie;

use crate::extract::{LocalBoxFuture, lookup};

/// The cookies the extractors of one request produced, for [`IdmeMiddleware`] to set.
#[derive(Debug, Clone, Default)]
pub(crate) struct CookieSlot(Arc<Mutex<Vec<SetCookie>>>);

impl CookieSlot {
    pub(crate) fn extend(&self, cookies: Vec<SetCookie>) {
        if !cookies.is_empty() {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(cookies);
        }
    }

    fn drain(&self) -> Vec<SetCookie> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Required around the whole app (`App::new().wrap(idme_actix::IdmeMiddleware)`): gives
/// each request a slot for the cookies [`IdmeUser`](crate::IdmeUser) and friends produce
/// (a session re-sealed after a token refresh or a last-seen update, a dead session's
/// deletion) and sets them on the response. actix-web's `ServiceConfig` cannot add
/// middleware, so [`configure`](crate::configure) cannot do it for you; without it the
/// extractors answer `500`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdmeMiddleware;

impl<S, B> Transform<S, ServiceRequest> for IdmeMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = IdmeMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(IdmeMiddlewareService { service }))
    }
}

/// The service made by [`IdmeMiddleware`].
#[derive(Debug)]
pub struct IdmeMiddlewareService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for IdmeMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let slot = CookieSlot::default();
        req.extensions_mut().insert(slot.clone());
        let fut = self.service.call(req);
        Box::pin(async move {
            let mut res = fut.await?;
            for cookie in slot.drain() {
                if let Ok(v) = HeaderValue::from_str(&cookie.header_value()) {
                    res.headers_mut().append(SET_COOKIE, v);
                }
            }
            Ok(res)
        })
    }
}

/// Requires a signed-in user on every route it wraps (`web::scope(..).wrap(RequireUser::new())`):
/// browsers without a session are sent to sign in, API clients get `401` JSON. The user is
/// left in the request extensions, so an [`IdmeUser`](crate::IdmeUser) extractor behind it
/// costs nothing more.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequireUser;

impl RequireUser {
    /// The middleware.
    pub fn new() -> Self {
        Self
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequireUser
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RequireUserMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireUserMiddleware {
            service: Rc::new(service),
        }))
    }
}

/// The service made by [`RequireUser`].
#[derive(Debug)]
pub struct RequireUserMiddleware<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for RequireUserMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        Box::pin(async move {
            match lookup(req.request().clone()).await {
                Ok(_) => service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body),
                Err(rejection) => {
                    let res = req.into_response(rejection.error_response());
                    Ok(res.map_into_right_body())
                }
            }
        })
    }
}
