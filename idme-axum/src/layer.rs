//! Tower layers: [`IdmeLayer`] shares the engine with the extractors and sets the
//! cookies they produce; [`RequireUserLayer`] protects a whole router.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use idme_core::{Authenticated, Idme, SetCookie};
use tower::{Layer, Service};

use axum::response::IntoResponse;

use crate::extract::{IdmeUser, missing_layer, unauthenticated};
use crate::{cookies, into_response};

/// Puts the [`Idme`] engine into every request's extensions, for [`IdmeUser`] and
/// [`RequireUserLayer`], with a per-request slot for the cookies they produce (a session
/// re-sealed after a token refresh, a dead session's deletion), which it drains into
/// `Set-Cookie` headers after the inner service answers. Add it with `.layer()` on the
/// outermost router: without it the extractors answer `500`.
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

/// The cookies the extractors of one request produced, for [`WithIdme`] to set.
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

impl<S, B, ResBody> Service<http::Request<B>> for WithIdme<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = SetCookies<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let slot = CookieSlot::default();
        req.extensions_mut().insert(self.idme.clone());
        req.extensions_mut().insert(slot.clone());
        SetCookies {
            inner: Box::pin(self.inner.call(req)),
            slot,
        }
    }
}

/// The response future of [`WithIdme`]: the inner response plus the request's cookies.
pub struct SetCookies<F> {
    inner: Pin<Box<F>>,
    slot: CookieSlot,
}

impl<F> std::fmt::Debug for SetCookies<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetCookies").finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for SetCookies<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut res = std::task::ready!(self.inner.as_mut().poll(cx))?;
        for cookie in self.slot.drain() {
            if let Ok(v) = http::HeaderValue::from_str(&cookie.header_value()) {
                res.headers_mut().append(http::header::SET_COOKIE, v);
            }
        }
        Poll::Ready(Ok(res))
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
        let (Some(idme), Some(slot)) = (
            parts.extensions.get::<Idme>().cloned(),
            parts.extensions.get::<CookieSlot>().cloned(),
        ) else {
            let rejection = missing_layer();
            return Box::pin(async move { Ok(rejection.into_response()) });
        };
        // The clone that was polled ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            match idme.authenticate(&cookies(&parts.headers)).await {
                Ok(Authenticated { user, set_cookies }) => {
                    slot.extend(set_cookies);
                    parts.extensions.insert(IdmeUser(user));
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(denied) => Ok(into_response(unauthenticated(&idme, denied, &parts))),
            }
        })
    }
}
