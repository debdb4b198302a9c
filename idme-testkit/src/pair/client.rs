//! The engine's HTTP client in a [`Pair`](super::Pair): the emulator's router.

use futures_util::StreamExt as _;
use idme_core::http_client::{
    HttpClient, HttpClientError, HttpClientErrorKind, HttpRequest, HttpResponse, ResponseLimit,
};

use crate::Emulator;

/// The engine's HTTP client: the emulator's router, called directly. It reads a body
/// as a network client does: chunk by chunk, stopping once it exceeds the request's
/// [`ResponseLimit`] (`TooLarge`); a body that breaks off is a `Network` error.
#[derive(Debug, Clone)]
pub(super) struct InMemory(pub(super) Emulator);

#[idme_core::async_trait]
impl HttpClient for InMemory {
    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpClientError> {
        let limit = ResponseLimit::of(&request).unwrap_or(usize::MAX);
        let response = self.0.handle(request.map(axum::body::Body::from)).await;
        let (parts, body) = response.into_parts();
        let mut stream = body.into_data_stream();
        let mut read = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| HttpClientError::new(HttpClientErrorKind::Network, e.to_string()))?;
            if chunk.len() > limit.saturating_sub(read.len()) {
                return Err(HttpClientError::new(
                    HttpClientErrorKind::TooLarge,
                    format!("response body exceeds {limit} bytes"),
                ));
            }
            read.extend_from_slice(&chunk);
        }
        Ok(http::Response::from_parts(parts, read))
    }
}
