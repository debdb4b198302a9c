//! [`IdmeMiddleware`]: keeps each request's sign-in state and sets the cookies the
//! extractors produce; [`RequireUser`]: middleware protecting a whole scope.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::{Error, HttpMessage};
use idme_core::adapter::RequestAuth;

use crate::extract::{LocalBoxFuture, lookup};
use crate::into_response;

/// Required around the whole app (`App::new().wrap(idme_actix::IdmeMiddleware)`): gives
/// each request its sign-in state, then sets on the response the cookies
/// [`IdmeUser`](crate::IdmeUser) and friends produced (a session re-sealed after a token
/// refresh or a last-seen update, a dead session's deletion), and answers `503` (`500`)
/// instead of the handler when an extractor met a session store that is down (no engine),
/// even one `Option<IdmeUser>` swallowed. actix-web's `ServiceConfig` cannot add
/// middleware, so [`configure`](crate::configure) cannot do it for you; without it the
/// extractors answer `500`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdmeMiddleware;

impl<S, B> Transform<S, ServiceRequest> for IdmeMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
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
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let auth = RequestAuth::new();
        req.extensions_mut().insert(auth.clone());
        let fut = self.service.call(req);
        Box::pin(async move {
            let res = fut.await?;
            let effects = auth.response_effects();
            let mut res = match effects.replace {
                Some(reply) => res
                    .into_response(into_response(reply))
                    .map_into_right_body(),
                None => res.map_into_left_body(),
            };
            for cookie in effects.set_cookies {
                if let Ok(v) = HeaderValue::from_str(&cookie.header_value()) {
                    res.headers_mut().append(SET_COOKIE, v);
                }
            }
            Ok(res)
        })
    }
}

/// Requires a signed-in user on every route it wraps (`web::scope(..).wrap(RequireUser::new())`):
/// browsers without a session are sent to sign in, API clients get `401` JSON. The outcome
/// is remembered, so an [`IdmeUser`](crate::IdmeUser) extractor behind it costs nothing
/// more.
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
            match lookup(req.request()).await {
                Ok(_) => service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body),
                Err(rejection) => {
                    let res = req.into_response(into_response(rejection.reply));
                    Ok(res.map_into_right_body())
                }
            }
        })
    }
}
