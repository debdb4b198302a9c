//! The login, callback and logout routes.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{MethodFilter, on};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest as _, Request};
use axum::response::IntoResponse as _;
use http::Method;
use idme_core::Idme;
use idme_core::adapter::{Route, RouteRequest};

use crate::{cookies, into_response};

/// The sign-in routes at the paths of the engine's configuration (`/auth/login`, the
/// redirect URI's path, `/auth/logout`, `/auth/backchannel-logout` by default), and the
/// routes of the engine's [extensions](idme_core::extension), as
/// [`Route::all`](idme_core::adapter::Route::all) lists them. Merge them into the app's
/// router.
pub fn routes<S>(idme: &Idme) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = Router::new();
    for route in Route::all(idme) {
        let filter = match (route.answers_get(), route.answers_post()) {
            (true, true) => MethodFilter::GET.or(MethodFilter::POST),
            (true, false) => MethodFilter::GET,
            _ => MethodFilter::POST,
        };
        // The whole request, taken apart rather than through the `HeaderMap` and
        // `Extensions` extractors, which clone them on every request.
        let handler = move |State(idme): State<Idme>, request: Request| async move {
            let (mut parts, body) = request.into_parts();
            // Present when the app is served with
            // `into_make_service_with_connect_info::<SocketAddr>()`.
            let remote_addr = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            // The body through axum's `Bytes` extractor with the request's extensions, so
            // that the app's `DefaultBodyLimit` applies (`413` past it).
            let mut carrier = Request::new(body);
            *carrier.extensions_mut() = std::mem::take(&mut parts.extensions);
            let body = match Bytes::from_request(carrier, &()).await {
                Ok(body) => body,
                Err(rejection) => return rejection.into_response(),
            };
            let headers = &parts.headers;
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let req = RouteRequest {
                post: parts.method == Method::POST,
                query: parts.uri.query(),
                header: &header,
                cookies: cookies(headers),
                body: &body,
                remote_addr,
            };
            into_response(route.answer(&idme, req).await)
        };
        router = router.route(route.path(idme), on(filter, handler));
    }
    router.with_state(idme.clone())
}
