//! [`Fault::Http`](crate::Fault::Http): endpoints that hang, fail, answer garbage or too
//! much, trickle, drop the connection or mislabel their answer. A middleware in front of
//! the real handlers, so every endpoint breaks the same way.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt as _, stream};

use super::{ATTRIBUTES_PATH, DISCOVERY_PATH, JWKS_PATH, Params, TOKEN_PATH, USERINFO_PATH};
use crate::faults::{HttpEndpoint, HttpFailure};
use crate::state::Shared;

/// The largest token request read to tell the grants apart.
const MAX_TOKEN_REQUEST: usize = 64 * 1024;
/// What [`HttpFailure::Huge`] appends, chunk after chunk.
const PADDING: &[u8] = &[b' '; 256 * 1024];

/// Applies the active [`Fault::Http`](crate::Fault::Http), if one breaks this endpoint.
pub(crate) async fn apply(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let faults = shared.faults();
    if !faults.any_http() {
        return next.run(req).await;
    }
    let (req, endpoint) = match endpoint_of(req).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(failure) = endpoint.and_then(|e| faults.http_failure(e)) else {
        return next.run(req).await;
    };
    tracing::debug!(?endpoint, ?failure, "idme-testkit: endpoint fault");
    match failure {
        HttpFailure::Hang => std::future::pending().await,
        HttpFailure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><body><h1>500 Internal Server Error</h1></body></html>",
        )
            .into_response(),
        HttpFailure::Garbage => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "<html>\u{0}not { the [ expected \"answer",
        )
            .into_response(),
        HttpFailure::Reset => {
            let broken = stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("connection reset (fault)"))
            });
            Response::new(Body::from_stream(broken))
        }
        HttpFailure::WrongContentType => {
            let mut response = next.run(req).await;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
        HttpFailure::Huge => {
            restream(next.run(req).await, |body| {
                let endless = stream::unfold((), |()| async {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    Some((Ok::<_, std::io::Error>(Bytes::from_static(PADDING)), ()))
                });
                Body::from_stream(stream::iter([Ok(body)]).chain(endless))
            })
            .await
        }
        HttpFailure::Trickle => {
            restream(next.run(req).await, |body| {
                let slow = stream::unfold(0usize, move |at| {
                    let body = body.clone();
                    async move {
                        let byte = body.get(at..=at)?;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Some((
                            Ok::<_, std::io::Error>(Bytes::copy_from_slice(byte)),
                            at + 1,
                        ))
                    }
                });
                Body::from_stream(slow)
            })
            .await
        }
    }
}

/// The real answer with its body sent another way (and without a `Content-Length`).
async fn restream(response: Response, body: impl FnOnce(Bytes) -> Body) -> Response {
    let (mut parts, original) = response.into_parts();
    let bytes = axum::body::to_bytes(original, usize::MAX)
        .await
        .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, body(bytes))
}

/// Which breakable endpoint `req` is for; a token request's body is read (and put back)
/// to tell the grants apart.
async fn endpoint_of(req: Request) -> Result<(Request, Option<HttpEndpoint>), Response> {
    let endpoint = match req.uri().path() {
        DISCOVERY_PATH => HttpEndpoint::Discovery,
        JWKS_PATH => HttpEndpoint::Jwks,
        USERINFO_PATH => HttpEndpoint::Userinfo,
        ATTRIBUTES_PATH => HttpEndpoint::Attributes,
        TOKEN_PATH => {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, MAX_TOKEN_REQUEST)
                .await
                .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
            let endpoint = match Params::parse(&bytes).get("grant_type") {
                Some("refresh_token") => HttpEndpoint::Refresh,
                _ => HttpEndpoint::Token,
            };
            return Ok((
                Request::from_parts(parts, Body::from(bytes)),
                Some(endpoint),
            ));
        }
        _ => return Ok((req, None)),
    };
    Ok((req, Some(endpoint)))
}
