//! The login, callback and logout routes.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::routing::post;
use http::{HeaderMap, Method, Uri, header};
use idme_core::{CallbackInput, CallbackMethod, Idme};

use crate::{cookies, into_response};

/// The sign-in routes at the paths of the engine's configuration (`/auth/login`,
/// the redirect URI's path, `/auth/logout`, `/auth/backchannel-logout` by default). Merge them into the app's router.
pub fn routes<S>(idme: &Idme) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let paths = idme.config().paths();
    Router::new()
        .route(&paths.login, get(login))
        .route(&paths.callback, get(callback).post(callback))
        .route(&paths.logout, post(logout))
        .route(&paths.backchannel_logout, post(backchannel_logout))
        .with_state(idme.clone())
}

async fn login(State(idme): State<Idme>, uri: Uri) -> Response {
    into_response(idme.login(uri.query()).await)
}

async fn callback(
    State(idme): State<Idme>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let input = CallbackInput {
        method: if method == Method::POST {
            CallbackMethod::Post
        } else {
            CallbackMethod::Get
        },
        query: uri.query(),
        body: &body,
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    };
    into_response(idme.callback(input, &cookies(&headers)).await)
}

async fn logout(State(idme): State<Idme>, headers: HeaderMap) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    into_response(idme.logout(&cookies(&headers), origin, site).await)
}

async fn backchannel_logout(State(idme): State<Idme>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    into_response(idme.backchannel_logout(content_type, &body).await)
}
