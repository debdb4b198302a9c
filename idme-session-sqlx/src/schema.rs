//! The tables and indexes, the same SQL on Postgres and SQLite, created idempotently.

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl Backend {
    /// `postgres` or `sqlite`, as error messages say.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// The statements creating the tables `{ns}_records` and `{ns}_locks` and their indexes,
/// each idempotent (`IF NOT EXISTS`). Times are Unix seconds (records) and milliseconds
/// (locks), written by the application's clock.
pub(crate) fn statements(ns: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {ns}_records (\n  \
             id TEXT PRIMARY KEY,\n  \
             sub TEXT NOT NULL,\n  \
             provider_sid TEXT,\n  \
             expires_at BIGINT NOT NULL,\n  \
             data TEXT NOT NULL\n)"
        ),
        format!("CREATE INDEX IF NOT EXISTS {ns}_records_sub ON {ns}_records (sub)"),
        format!(
            "CREATE INDEX IF NOT EXISTS {ns}_records_provider_sid ON {ns}_records (provider_sid)"
        ),
        format!("CREATE INDEX IF NOT EXISTS {ns}_records_expires_at ON {ns}_records (expires_at)"),
        format!(
            "CREATE TABLE IF NOT EXISTS {ns}_locks (\n  \
             name TEXT PRIMARY KEY,\n  \
             owner TEXT NOT NULL,\n  \
             expires_at_ms BIGINT NOT NULL\n)"
        ),
        format!("CREATE INDEX IF NOT EXISTS {ns}_locks_expires_at ON {ns}_locks (expires_at_ms)"),
    ]
}

/// The statements the store runs, built once per namespace.
#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) load: String,
    pub(crate) save: String,
    pub(crate) update: String,
    pub(crate) delete: String,
    pub(crate) delete_by_sub: String,
    pub(crate) delete_by_provider_sid: String,
    pub(crate) lock: String,
    pub(crate) release: String,
    pub(crate) sweep_records: String,
    pub(crate) sweep_locks: String,
}

impl Sql {
    /// The statements on the tables of `ns` (`$n` parameters: both databases take them).
    pub(crate) fn new(ns: &str) -> Self {
        let (r, l) = (format!("{ns}_records"), format!("{ns}_locks"));
        Self {
            load: format!(
                "SELECT sub, provider_sid, expires_at, data FROM {r} WHERE id = $1 AND expires_at > $2"
            ),
            save: format!(
                "INSERT INTO {r} (id, sub, provider_sid, expires_at, data) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET sub = excluded.sub, provider_sid = excluded.provider_sid, \
                 expires_at = excluded.expires_at, data = excluded.data"
            ),
            // One statement: only a record still there and unexpired is replaced.
            update: format!(
                "UPDATE {r} SET sub = $2, provider_sid = $3, expires_at = $4, data = $5 \
                 WHERE id = $1 AND expires_at > $6"
            ),
            delete: format!("DELETE FROM {r} WHERE id = $1"),
            delete_by_sub: format!("DELETE FROM {r} WHERE sub = $1"),
            delete_by_provider_sid: format!("DELETE FROM {r} WHERE provider_sid = $1"),
            // Taken if free, expired, or already this owner's (a retried call).
            lock: format!(
                "INSERT INTO {l} (name, owner, expires_at_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms \
                 WHERE {l}.expires_at_ms <= $4 OR {l}.owner = excluded.owner"
            ),
            release: format!("DELETE FROM {l} WHERE name = $1 AND owner = $2"),
            sweep_records: format!(
                "DELETE FROM {r} WHERE id IN (SELECT id FROM {r} WHERE expires_at <= $1 LIMIT $2)"
            ),
            sweep_locks: format!(
                "DELETE FROM {l} WHERE name IN (SELECT name FROM {l} WHERE expires_at_ms <= $1 LIMIT $2)"
            ),
        }
    }
}
