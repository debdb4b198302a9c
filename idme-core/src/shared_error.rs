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
