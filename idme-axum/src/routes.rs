//! The login, callback and logout routes.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{MethodFilter, on};
use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::{Extensions, HeaderMap, Method, Uri};
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
        let handler = move |State(idme): State<Idme>,
                            method: Method,
                            uri: Uri,
                            headers: HeaderMap,
                            extensions: Extensions,
                            body: Bytes| async move {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let req = RouteRequest {
                post: method == Method::POST,
                query: uri.query(),
                header: &header,
                cookies: cookies(&headers),
                body: &body,
                // Present when the app is served with
                // `into_make_service_with_connect_info::<SocketAddr>()`.
                remote_addr: extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip()),
            };
            into_response(route.answer(&idme, req).await)
        };
        router = router.route(route.path(idme), on(filter, handler));
    }
    router.with_state(idme.clone())
}
