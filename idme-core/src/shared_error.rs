//! [`SharedError`]: an underlying error kept as the [`source`](std::error::Error::source)
//! of one of ours, shareable so our error types stay `Clone`.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// An underlying error (an I/O error, a Redis or HTTP client error, …) kept as the
/// `source()` of an idme error. Displays as the error it holds; two are equal when they
/// display the same text.
///
/// ```
/// use std::error::Error;
/// use idme_core::SharedError;
/// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
/// let shared = SharedError::new(io);
/// assert_eq!(shared.to_string(), "gone");
/// assert!(shared.get_ref().downcast_ref::<std::io::Error>().is_some());
/// ```
#[derive(Clone)]
pub struct SharedError(Arc<dyn StdError + Send + Sync + 'static>);

impl SharedError {
    /// Keeps `error`.
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self(Arc::from(error.into()))
    }

    /// The error kept (to [`downcast_ref`](trait@StdError) it).
    pub fn get_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.0
    }

    /// The error kept in `source`, as an [`Error::source`](StdError::source) returns it:
    /// the underlying error itself, so callers can downcast it.
    pub(crate) fn as_source(source: &Option<Self>) -> Option<&(dyn StdError + 'static)> {
        source.as_ref().map(|s| &*s.0 as &(dyn StdError + 'static))
    }
}

impl fmt::Debug for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl StdError for SharedError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

impl PartialEq for SharedError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.to_string() == other.to_string()
    }
}

impl Eq for SharedError {}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use crate::http_client::{HttpClientError, HttpClientErrorKind};
    use crate::session::store::StoreError;

    /// An underlying error whose text holds no secret, though the failed call carried one.
    fn refused() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused")
    }

    #[test]
    fn store_error_keeps_its_source() {
        let e = StoreError::with_source("redis: connection refused", refused());
        let source = e.source().expect("the source is kept");
        assert!(source.downcast_ref::<std::io::Error>().is_some());
        assert_eq!(e.message(), "redis: connection refused");
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(StoreError::new("down").source().is_none());
        assert_eq!(e.clone(), e);
    }

    #[test]
    fn http_client_error_keeps_its_source() {
        let e = HttpClientError::with_source(HttpClientErrorKind::Network, refused());
        let source = e.source().expect("the source is kept");
        assert_eq!(
            source.downcast_ref::<std::io::Error>().map(|e| e.kind()),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
        assert_eq!(e.to_string(), "Network: connection refused");
        assert!(!format!("{e:?}").contains("client_secret"));
        assert!(
            HttpClientError::new(HttpClientErrorKind::Timeout, "slow")
                .source()
                .is_none()
        );
    }

    /// The default client keeps reqwest's error, without the URL and its query.
    #[cfg(feature = "reqwest")]
    #[tokio::test]
    async fn reqwest_errors_keep_their_source_without_the_url() {
        use crate::http_client::{HttpClient, ReqwestClient};
        let client = ReqwestClient::new(std::time::Duration::from_secs(5));
        let request = http::Request::get("http://127.0.0.1:1/token?client_secret=hunter2")
            .body(Vec::new())
            .unwrap();
        let e = client.execute(request).await.unwrap_err();
        assert!(e.source().is_some(), "{e}");
        let mut shown = format!("{e} {e:?}");
        let mut next = e.source();
        while let Some(s) = next {
            shown.push_str(&format!(" {s} {s:?}"));
            next = s.source();
        }
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn config_error_keeps_its_source() {
        let e = crate::DecryptionKeys::from_file_list("/nonexistent/idme-key.pem").unwrap_err();
        assert!(e.source().is_some(), "{e}");
        assert_eq!(e.setting(), Some("IDME_DECRYPTION_KEY_FILE"));
    }
}
