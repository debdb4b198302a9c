//! [`SqlStoreOptions`]: the namespace (table names), timeouts and expiry sweep.

use std::time::Duration;

use crate::error::SqlStoreError;

/// How a [`SqlStore`](crate::SqlStore) uses its database. `Default`: namespace
/// `idme_sessions`, 2 s per call, expired records swept every 60 s, 1000 per statement,
/// tables created on connect.
#[derive(Debug, Clone)]
pub struct SqlStoreOptions {
    pub(crate) namespace: String,
    pub(crate) timeout: Duration,
    pub(crate) sweep_every: Option<Duration>,
    pub(crate) sweep_batch: u32,
    pub(crate) migrate: bool,
    pub(crate) max_connections: u32,
}

impl Default for SqlStoreOptions {
    fn default() -> Self {
        Self {
            namespace: "idme_sessions".into(),
            timeout: Duration::from_secs(2),
            sweep_every: Some(Duration::from_secs(60)),
            sweep_batch: 1000,
            migrate: true,
            max_connections: 10,
        }
    }
}

impl SqlStoreOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tables `{namespace}_records` and `{namespace}_locks` (default `idme_sessions`):
    /// app grants beside sessions use another one (`idme_apps`), as do several apps sharing
    /// one database. 1 to 40 characters `a-z`, `0-9`, `_`, starting with a letter.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Result<Self, SqlStoreError> {
        self.namespace = valid_namespace(namespace.into())?;
        Ok(self)
    }

    /// The longest a call may take, connection included (default 2 s); past it the call
    /// fails with a store error (requests answer `503`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often expired records and locks are deleted in the background (default 60 s);
    /// `None`: never (call [`SqlStore::sweep`](crate::SqlStore::sweep) yourself).
    pub fn sweep_every(mut self, every: Option<Duration>) -> Self {
        self.sweep_every = every;
        self
    }

    /// The most rows one sweep statement deletes (default 1000), so a sweep never holds
    /// the table long; a sweep repeats statements until no expired row is left.
    pub fn sweep_batch(mut self, rows: u32) -> Self {
        self.sweep_batch = rows.max(1);
        self
    }

    /// Whether [`connect`](crate::SqlStore::connect) creates the tables and indexes if
    /// missing (default `true`). Turn it off when your own migration tool runs
    /// [`SqlStore::schema`](crate::SqlStore::schema).
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// The pool's size when the store opens it (default 10).
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }
}

/// `namespace` if it is a plain, lower-case SQL identifier (it is pasted into statements).
pub(crate) fn valid_namespace(namespace: String) -> Result<String, SqlStoreError> {
    let ok = (1..=40).contains(&namespace.len())
        && namespace.starts_with(|c: char| c.is_ascii_lowercase())
        && namespace
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(namespace)
    } else {
        Err(SqlStoreError::InvalidNamespace(namespace))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_plain_identifiers() {
        for ok in ["idme_apps", "a", "shop2_sessions"] {
            assert!(SqlStoreOptions::new().namespace(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1a", "Apps", "a;drop", "a-b", "a b", &"a".repeat(41)] {
            assert!(
                matches!(
                    SqlStoreOptions::new().namespace(bad),
                    Err(SqlStoreError::InvalidNamespace(_))
                ),
                "{bad}"
            );
        }
    }
}
