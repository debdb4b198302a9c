//! The one door to the network: every call to the provider (discovery, JWKS, token,
//! userinfo) goes through an [`HttpClient`], so tests and other runtimes can swap it.
//!
//! The engine wraps every call in its own timeout as well, so a custom client that never
//! answers cannot hang a callback. It also caps the size of every answer: each request
//! carries a [`ResponseLimit`] in its extensions, which a client should honour while
//! reading (the default client stops reading past it); the engine refuses a longer body
//! whatever the client returns.

use std::future::Future;

use async_trait::async_trait;

/// A request to the provider.
pub type HttpRequest = http::Request<Vec<u8>>;
/// The provider's answer.
pub type HttpResponse = http::Response<Vec<u8>>;

/// A transport failure (not an HTTP error status: those are responses). The client's own
/// error, if kept, is its [`source`](std::error::Error::source).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpClientError {
    /// What kind of failure.
    pub kind: HttpClientErrorKind,
    /// A description without secrets.
    pub message: String,
    /// The client's error (without URLs or secrets).
    pub source: Option<crate::SharedError>,
}

impl std::fmt::Display for HttpClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for HttpClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        crate::SharedError::as_source(&self.source)
    }
}

impl HttpClientError {
    /// A failure of `kind`, described by `message` (without secrets or query strings).
    pub fn new(kind: HttpClientErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A failure of `kind` caused by `source`, which is kept and also describes it (its
    /// text must hold no secret or query string).
    pub fn with_source(
        kind: HttpClientErrorKind,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            message: source.to_string(),
            source: Some(crate::SharedError::new(source)),
        }
    }
}

/// The kind of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpClientErrorKind {
    /// The call timed out.
    Timeout,
    /// Connecting or transferring failed.
    Network,
    /// The body is longer than the request's [`ResponseLimit`]; reading stopped there.
    TooLarge,
}

/// The most body bytes the engine accepts for a request, set in the request's
/// [`extensions`](http::Request::extensions) by the engine. A client should stop reading
/// (and answer [`HttpClientErrorKind::TooLarge`]) once a body exceeds it, instead of
/// buffering the whole body first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLimit(usize);

impl ResponseLimit {
    /// A limit of `bytes` (the engine sets it; clients read it with [`of`](Self::of)).
    pub fn new(bytes: usize) -> Self {
        Self(bytes)
    }

    /// The most body bytes allowed.
    pub fn bytes(self) -> usize {
        self.0
    }

    /// The limit of `request`, if the engine set one.
    pub fn of<T>(request: &http::Request<T>) -> Option<usize> {
        request.extensions().get::<ResponseLimit>().map(|l| l.0)
    }
}

/// Sends one HTTP request and returns the response. Must not follow redirects.
///
/// Implement it with a plain `async fn` under [`#[async_trait]`](crate::async_trait), or
/// pass an async closure `Fn(HttpRequest) -> impl Future<Output = Result<…>>`:
///
/// ```
/// use idme_core::async_trait;
/// use idme_core::http_client::{
///     HttpClient, HttpClientError, HttpClientErrorKind, HttpRequest, HttpResponse,
/// };
///
/// /// A client for a sealed network: every call fails.
/// struct Offline;
///
/// #[async_trait]
/// impl HttpClient for Offline {
///     async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpClientError> {
///         Err(HttpClientError::new(
///             HttpClientErrorKind::Network,
///             format!("offline: {} not sent", request.uri().path()),
///         ))
///     }
/// }
/// # let config = idme_core::IdmeBuilder::new()
/// #     .client_id("c").client_secret("s")
/// #     .redirect_uri("https://app.example/auth/callback")
/// #     .cookie_keys(idme_core::CookieKeys::random())
/// #     .build().unwrap();
/// let idme = idme_core::Idme::with_http_client(config, Offline);
/// # let _ = idme;
/// ```
#[async_trait]
pub trait HttpClient: Send + Sync + 'static {
    /// Sends `request`.
    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpClientError>;
}

#[async_trait]
impl<F, Fut> HttpClient for F
where
    F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HttpResponse, HttpClientError>> + Send + 'static,
{
    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpClientError> {
        self(request).await
    }
}

#[cfg(feature = "reqwest")]
pub use self::reqwest_client::ReqwestClient;

#[cfg(feature = "reqwest")]
mod reqwest_client {
    use super::*;
    use std::time::Duration;

    /// The default client: reqwest with rustls, no redirects, with connect and overall
    /// timeouts, reading bodies chunk by chunk up to the request's [`ResponseLimit`].
    #[derive(Debug, Clone)]
    pub struct ReqwestClient {
        client: reqwest::Client,
    }

    impl ReqwestClient {
        /// A client whose every call is bounded by `timeout`.
        pub fn new(timeout: Duration) -> Self {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(5)))
                .user_agent(concat!("idme-rs/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a rustls reqwest client with static options builds");
            Self { client }
        }

        /// Wraps an existing reqwest client (its redirect policy should be `none`).
        pub fn from_client(client: reqwest::Client) -> Self {
            Self { client }
        }
    }

    fn classify(e: reqwest::Error) -> HttpClientError {
        let kind = if e.is_timeout() {
            HttpClientErrorKind::Timeout
        } else {
            HttpClientErrorKind::Network
        };
        // Without the URL: query strings could hold secrets.
        HttpClientError::with_source(kind, e.without_url())
    }

    #[async_trait]
    impl HttpClient for ReqwestClient {
        async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpClientError> {
            let limit = ResponseLimit::of(&request).unwrap_or(usize::MAX);
            let request =
                reqwest::Request::try_from(request.map(reqwest::Body::from)).map_err(classify)?;
            let mut response = self.client.execute(request).await.map_err(classify)?;
            let too_large = || {
                HttpClientError::new(
                    HttpClientErrorKind::TooLarge,
                    format!("response body exceeds {limit} bytes"),
                )
            };
            if response.content_length().is_some_and(|n| n > limit as u64) {
                return Err(too_large());
            }
            let mut builder = http::Response::builder().status(response.status());
            if let Some(headers) = builder.headers_mut() {
                headers.extend(response.headers().clone());
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(classify)? {
                if chunk.len() > limit.saturating_sub(body.len()) {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            builder
                .body(body)
                .map_err(|e| HttpClientError::with_source(HttpClientErrorKind::Network, e))
        }
    }
}
