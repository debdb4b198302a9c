//! The engine's HTTP client in a [`Pair`](super::Pair): the emulator's router.

use idme_core::http_client::{
    HttpClient, HttpClientError, HttpClientErrorKind, HttpRequest, HttpResponse, ResponseLimit,
};

use crate::Emulator;

/// The engine's HTTP client: the emulator's router, called directly.
#[derive(Debug, Clone)]
pub(super) struct InMemory(pub(super) Emulator);

#[idme_core::async_trait]
impl HttpClient for InMemory {
    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpClientError> {
        let limit = ResponseLimit::of(&request).unwrap_or(usize::MAX);
        let response = self.0.handle(request.map(axum::body::Body::from)).await;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, limit)
            .await
            .map_err(|e| HttpClientError {
                kind: HttpClientErrorKind::TooLarge,
                message: e.to_string(),
            })?;
        Ok(http::Response::from_parts(parts, body.to_vec()))
    }
}
