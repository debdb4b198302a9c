//! Tower layers: [`IdmeLayer`] shares the engine with the extractors and sets the
//! cookies they produce; [`RequireUserLayer`] protects a whole router.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use idme_core::Idme;
use idme_core::adapter::RequestAuth;
use tower::{Layer, Service};

use crate::extract::guard;
use crate::{cookies, into_response};

/// Puts the [`Idme`] engine into every request's extensions, for
/// [`IdmeUser`](crate::IdmeUser) and [`RequireUserLayer`], with the request's sign-in
/// state; after the inner service answers it sets the cookies they produced (a session
/// re-sealed after a token refresh, a dead session's deletion), and answers `503` instead
/// when the session store was down (even if `Option<IdmeUser>` let the handler run). Add
/// it with `.layer()` on the outermost router: without it the extractors answer `500`.
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

impl<S, B, ResBody> Service<http::Request<B>> for WithIdme<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
    ResBody: From<String>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = SetCookies<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let auth = RequestAuth::new();
        req.extensions_mut().insert(self.idme.clone());
        req.extensions_mut().insert(auth.clone());
        SetCookies {
            inner: Box::pin(self.inner.call(req)),
            auth,
        }
    }
}

/// The response future of [`WithIdme`]: the inner response plus the request's cookies.
pub struct SetCookies<F> {
    inner: Pin<Box<F>>,
    auth: RequestAuth,
}

impl<F> std::fmt::Debug for SetCookies<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetCookies").finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for SetCookies<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    ResBody: From<String>,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut res = std::task::ready!(self.inner.as_mut().poll(cx))?;
        let effects = self.auth.response_effects();
        if let Some(reply) = effects.replace {
            res = reply.into_http().map(ResBody::from);
        }
        for cookie in effects.set_cookies {
            if let Ok(v) = http::HeaderValue::from_str(&cookie.header_value()) {
                res.headers_mut().append(http::header::SET_COOKIE, v);
            }
        }
        Poll::Ready(Ok(res))
    }
}

/// Requires a signed-in user on every route it wraps (use with `route_layer`): browsers
/// without a session are sent to sign in, API clients get `401` JSON. The outcome is
/// remembered, so an [`IdmeUser`](crate::IdmeUser) extractor behind it costs nothing more.
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
        let (parts, body) = req.into_parts();
        // The clone that was polled ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (auth, guarded) = guard(&parts);
            match auth.user(&guarded, || cookies(&parts.headers)).await {
                Ok(_) => inner.call(Request::from_parts(parts, body)).await,
                Err(rejection) => Ok(into_response(rejection.reply)),
            }
        })
    }
}
