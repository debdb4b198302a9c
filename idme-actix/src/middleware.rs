//! [`RequireUser`]: middleware protecting a whole scope.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage, ResponseError};

use crate::extract::lookup;

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
        ready(Ok(RequireUserMiddleware { service }))
    }
}

/// The service made by [`RequireUser`].
#[derive(Debug)]
pub struct RequireUserMiddleware<S> {
    service: S,
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

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
        match lookup(req.request()) {
            Ok(user) => {
                req.extensions_mut().insert(user);
                let fut = self.service.call(req);
                Box::pin(async move { fut.await.map(ServiceResponse::map_into_left_body) })
            }
            Err(rejection) => {
                let res = req.into_response(rejection.error_response());
                Box::pin(ready(Ok(res.map_into_right_body())))
            }
        }
    }
}
