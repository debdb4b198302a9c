//! Tower layers: [`IdmeLayer`] shares the engine with the extractors; [`RequireUserLayer`]
//! protects a whole router.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use idme_core::Idme;
use tower::{Layer, Service};

use axum::response::IntoResponse;

use crate::extract::{IdmeUser, missing_layer, unauthenticated};
use crate::{cookies, into_response};

/// Puts the [`Idme`] engine into every request's extensions, for [`IdmeUser`] and
/// [`RequireUserLayer`]. Add it with `.layer()` on the outermost router.
#[derive(Debug, Clone)]
pub struct IdmeLayer {
    idme: Idme,
}

impl IdmeLayer {
    /// A layer sharing `idme`.
    pub fn new(idme: Idme) -> Self {
        Self { idme }
    }
}

impl<S> Layer<S> for IdmeLayer {
    type Service = WithIdme<S>;
    fn layer(&self, inner: S) -> Self::Service {
        WithIdme {
            inner,
            idme: self.idme.clone(),
        }
    }
}

/// The service made by [`IdmeLayer`].
#[derive(Debug, Clone)]
pub struct WithIdme<S> {
    inner: S,
    idme: Idme,
}

impl<S, B> Service<http::Request<B>> for WithIdme<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        req.extensions_mut().insert(self.idme.clone());
        self.inner.call(req)
    }
}

/// Requires a signed-in user on every route it wraps (use with `route_layer`): browsers
/// without a session are sent to sign in, API clients get `401` JSON. The user is left in
/// the request extensions, so an [`IdmeUser`] extractor behind it costs nothing more.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequireUserLayer;

impl RequireUserLayer {
    /// The layer.
    pub fn new() -> Self {
        Self
    }
}

impl<S> Layer<S> for RequireUserLayer {
    type Service = RequireUser<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequireUser { inner }
    }
}

/// The service made by [`RequireUserLayer`].
#[derive(Debug, Clone)]
pub struct RequireUser<S> {
    inner: S,
}

impl<S> Service<Request> for RequireUser<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let Some(idme) = parts.extensions.get::<Idme>().cloned() else {
            let rejection = missing_layer();
            return Box::pin(async move { Ok(rejection.into_response()) });
        };
        match idme.authenticate(&cookies(&parts.headers)) {
            Ok(user) => {
                parts.extensions.insert(IdmeUser(user));
                let req = Request::from_parts(parts, body);
                // The clone that was polled ready is the one that must be called.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move { inner.call(req).await })
            }
            Err(why) => {
                let reply = unauthenticated(&idme, why, &parts);
                Box::pin(async move { Ok(into_response(reply)) })
            }
        }
    }
}
