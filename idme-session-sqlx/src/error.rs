//! The crate's error, and the scrubbing that keeps a connection URL's password out of
//! every message.

use idme_core::store::StoreError;

/// Why a [`SqlStore`](crate::SqlStore) could not be set up, or a call failed. Its text
/// never holds the connection URL's password. Converts into the engine's
/// [`StoreError`] (requests answer `503`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlStoreError {
    /// The URL names no database this build can use.
    #[error(
        "unsupported store URL (expected postgres://…, postgresql://… or sqlite://path, with the matching crate feature)"
    )]
    UnsupportedUrl,
    /// The namespace is not a plain SQL identifier.
    #[error(
        "invalid namespace {0:?}: use 1 to 40 characters a-z, 0-9 and _, starting with a letter"
    )]
    InvalidNamespace(String),
    /// The SQLite file's directory could not be created.
    #[error("cannot create the directory of the SQLite file: {0}")]
    Directory(#[source] std::io::Error),
    /// The database answered with an error, or could not be reached.
    #[error("{backend}: {message}")]
    Database {
        /// `postgres` or `sqlite`.
        backend: &'static str,
        /// The database error's text, password removed.
        message: String,
    },
    /// The call took longer than the store's timeout.
    #[error("{0}: timed out")]
    TimedOut(&'static str),
}

impl From<SqlStoreError> for StoreError {
    fn from(e: SqlStoreError) -> Self {
        StoreError::with_source(e.to_string(), e)
    }
}

/// What is removed from error texts: the URL's password (and the URL itself, which may
/// repeat it percent-encoded).
#[derive(Clone, Default)]
pub(crate) struct Secrets(Vec<String>);

impl Secrets {
    /// The secrets of `url`: its password, raw and percent-decoded.
    pub(crate) fn of_url(url: &str) -> Self {
        let mut secrets = Vec::new();
        if let Ok(parsed) = url::Url::parse(url)
            && let Some(password) = parsed.password().filter(|p| !p.is_empty())
        {
            secrets.push(password.to_owned());
            // Percent-decoded too, as a driver may print it.
            let query = format!("p={password}");
            if let Some((_, decoded)) = url::form_urlencoded::parse(query.as_bytes()).next() {
                secrets.push(decoded.into_owned());
            }
        }
        Self(secrets)
    }

    /// A database error as a [`SqlStoreError`], its text without the secrets (no
    /// connection free within the timeout is [`SqlStoreError::TimedOut`]).
    pub(crate) fn database(&self, backend: &'static str, e: &sqlx::Error) -> SqlStoreError {
        if matches!(e, sqlx::Error::PoolTimedOut) {
            return SqlStoreError::TimedOut(backend);
        }
        let mut message = e.to_string();
        for secret in &self.0 {
            if !secret.is_empty() {
                message = message.replace(secret.as_str(), "***");
            }
        }
        SqlStoreError::Database { backend, message }
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_error_loses_the_password() {
        let secrets = Secrets::of_url("postgres://app:p%40ss@db.example/app");
        let e = sqlx::Error::Configuration("bad url postgres://app:p%40ss@ and p@ss".into());
        let text = secrets.database("postgres", &e).to_string();
        assert!(!text.contains("p%40ss") && !text.contains("p@ss"), "{text}");
        assert!(text.starts_with("postgres: "), "{text}");
    }
}
