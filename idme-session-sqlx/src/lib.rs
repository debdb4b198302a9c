//! # idme-session-sqlx
//!
//! A Postgres and SQLite [`SharedStore`](idme_core::SharedStore) for idme-rs, on `sqlx`:
//! sessions (and `idme-apps` grants) kept in a database, shared by every instance using
//! it and kept across restarts. The browser's cookie holds only a sealed random id; the
//! stored session is sealed with the cookie keys, so the database never holds a token in
//! clear.
//!
//! - **Postgres** (`postgres://…`, feature `postgres`): several instances, durable.
//! - **SQLite** (`sqlite://path`, feature `sqlite`): one machine (instances sharing one
//!   file), durable, nothing to run; WAL mode and a busy timeout.
//!
//! | table | holds |
//! |---|---|
//! | `{namespace}_records` | `id` (primary key), `sub`, `provider_sid`, `expires_at` (Unix s), `data` (sealed); indexed on `sub`, `provider_sid`, `expires_at` |
//! | `{namespace}_locks` | `name` (primary key), `owner`, `expires_at_ms` (Unix ms) |
//!
//! The namespace defaults to `idme_sessions`; app grants go beside the sessions under
//! their own ([`SqlStore::namespace`], e.g. `idme_apps`).
//!
//! **Migrations.** [`connect`](SqlStore::connect) creates the tables and indexes if they
//! are missing (`CREATE … IF NOT EXISTS`, in one transaction; on Postgres under an
//! advisory lock, so instances starting together do not race). To run them with your own
//! migration tool instead, take the SQL from [`SqlStore::schema`] and turn the store's off
//! with [`SqlStoreOptions::migrate`]`(false)`.
//!
//! **Atomicity.** An update is one `UPDATE … WHERE id = $1 AND expires_at > now`: a record
//! deleted (logout) or expired meanwhile is never re-created. A lock is one
//! `INSERT … ON CONFLICT (name) DO UPDATE … WHERE expires_at_ms <= now`: exclusive across
//! every instance on the database, for its TTL; only its owner releases it.
//!
//! **Expiry.** Expired records never load nor update; a background task deletes them
//! (and expired locks) every 60 s, at most 1000 rows per statement, and stops when the
//! last clone of the store is dropped.
//!
//! **Failures.** Every call is bounded by a timeout (default 2 s, connection included):
//! past it, or when the database is down, the call fails with a
//! [`StoreError`](idme_core::store::StoreError) (requests answer `503`) and later calls
//! recover by themselves. No error text holds the URL's password.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use idme_core::{Idme, IdmeBuilder};
//! use idme_session_sqlx::SqlStore;
//! let sessions = SqlStore::connect("postgres://app@db.internal/app").await?;
//! let grants = sessions.namespace("idme_apps").await?; // same pool, own tables
//! let config = IdmeBuilder::from_env()?.session_store(sessions).build()?;
//! let apps = idme_apps::AppServer::new(idme_apps::AppClients::new(["tv"])).with_store(grants);
//! let idme = Idme::builder(config).extension(apps).build()?;
//! # let _ = idme; Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![forbid(unused_must_use)]

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!("idme-session-sqlx needs the `postgres` or the `sqlite` feature (or both)");

mod connect;
mod error;
mod ops;
mod options;
mod schema;
mod sweep;

use std::sync::Arc;

pub use connect::SqlPool;
pub use error::SqlStoreError;
pub use options::SqlStoreOptions;
pub use schema::Backend;

use error::Secrets;
use schema::Sql;

/// Sessions (or app grants) in Postgres or SQLite. Cheap to clone (one pool).
#[derive(Clone)]
pub struct SqlStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlPool,
    sql: Sql,
    options: SqlStoreOptions,
    secrets: Secrets,
    /// Dropped with the last clone: the background sweep then stops.
    _sweeping: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL nor the pool's options: they may hold a password.
        f.debug_struct("SqlStore")
            .field("backend", &self.backend())
            .field("namespace", &self.inner.options.namespace)
            .field("timeout", &self.inner.options.timeout)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Connects to `url` (`postgres://…`, `postgresql://…` or `sqlite://path`, the SQLite
    /// file and its directory created if missing) with the default
    /// [`SqlStoreOptions`], and creates the tables if missing.
    pub async fn connect(url: &str) -> Result<Self, SqlStoreError> {
        Self::connect_with(url, SqlStoreOptions::default()).await
    }

    /// Like [`connect`](Self::connect), with `options`.
    pub async fn connect_with(url: &str, options: SqlStoreOptions) -> Result<Self, SqlStoreError> {
        let secrets = Secrets::of_url(url);
        let pool = connect::open(url, &options, &secrets).await?;
        Self::start(pool, options, secrets).await
    }

    /// A store on your own pool (a `sqlx::PgPool` or `sqlx::SqlitePool`), creating the
    /// tables if missing unless `options` say otherwise.
    pub async fn from_pool(
        pool: impl Into<SqlPool>,
        options: SqlStoreOptions,
    ) -> Result<Self, SqlStoreError> {
        Self::start(pool.into(), options, Secrets::default()).await
    }

    /// A store on the same pool with the tables of `namespace` (created if missing, as
    /// for this one): app grants beside sessions (`idme_apps`), or another app.
    pub async fn namespace(&self, namespace: &str) -> Result<Self, SqlStoreError> {
        let options = self.inner.options.clone().namespace(namespace)?;
        Self::start(self.inner.pool.clone(), options, self.inner.secrets.clone()).await
    }

    /// The SQL creating the tables and indexes of `namespace` (statements ended by `;`,
    /// the same for Postgres and SQLite, each idempotent), for your own migration tool.
    ///
    /// ```
    /// let sql = idme_session_sqlx::SqlStore::schema("idme_sessions").unwrap();
    /// assert!(sql.contains("CREATE TABLE IF NOT EXISTS idme_sessions_records"));
    /// ```
    pub fn schema(namespace: &str) -> Result<String, SqlStoreError> {
        let namespace = options::valid_namespace(namespace.to_owned())?;
        Ok(schema::statements(&namespace)
            .into_iter()
            .map(|s| s + ";\n")
            .collect())
    }

    /// The database it runs on.
    pub fn backend(&self) -> Backend {
        self.inner.pool.backend()
    }

    /// Its pool (to share with the rest of the application).
    pub fn pool(&self) -> &SqlPool {
        &self.inner.pool
    }

    async fn start(
        pool: SqlPool,
        options: SqlStoreOptions,
        secrets: Secrets,
    ) -> Result<Self, SqlStoreError> {
        let backend = pool.backend().name();
        if options.migrate {
            tokio::time::timeout(
                options.timeout * 5,
                connect::migrate(&pool, &options.namespace),
            )
            .await
            .map_err(|_| SqlStoreError::TimedOut(backend))?
            .map_err(|e| secrets.database(backend, &e))?;
        }
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let every = options.sweep_every;
        let store = Self {
            inner: Arc::new(Inner {
                sql: Sql::new(&options.namespace),
                pool,
                options,
                secrets,
                _sweeping: every.map(|_| stop),
            }),
        };
        if let Some(every) = every {
            sweep::spawn(&store, every, stopped);
        }
        Ok(store)
    }

    /// Runs `query` (on whichever pool) within the timeout, its error made safe to show.
    async fn bounded<T>(
        &self,
        query: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, SqlStoreError> {
        let backend = self.backend().name();
        match tokio::time::timeout(self.inner.options.timeout, query).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.inner.secrets.database(backend, &e)),
            Err(_) => Err(SqlStoreError::TimedOut(backend)),
        }
    }
}

/// Runs the async block `$body` with `$pool` bound to the store's pool, whichever
/// database it is (the block is compiled once per backend), bounded by the timeout.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.inner.pool {
            #[cfg(feature = "postgres")]
            $crate::SqlPool::Postgres($pool) => $store.bounded($body).await,
            #[cfg(feature = "sqlite")]
            $crate::SqlPool::Sqlite($pool) => $store.bounded($body).await,
        }
    };
}
pub(crate) use on_pool;

/// Unix seconds now (the application's clock, as the engine's).
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `n` as a database integer (saturating).
pub(crate) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
