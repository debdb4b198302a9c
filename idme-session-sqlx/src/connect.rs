//! Opening a pool from a URL, and creating the tables.

use crate::error::{Secrets, SqlStoreError};
use crate::options::SqlStoreOptions;
use crate::schema::{Backend, statements};

/// A connection pool a [`SqlStore`](crate::SqlStore) runs on: yours
/// ([`SqlStore::from_pool`](crate::SqlStore::from_pool)) or the one it opened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SqlPool {
    /// A Postgres pool.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// A SQLite pool.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

#[cfg(feature = "postgres")]
impl From<sqlx::PgPool> for SqlPool {
    fn from(pool: sqlx::PgPool) -> Self {
        SqlPool::Postgres(pool)
    }
}

#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for SqlPool {
    fn from(pool: sqlx::SqlitePool) -> Self {
        SqlPool::Sqlite(pool)
    }
}

impl SqlPool {
    /// The database it connects to.
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Opens a pool for `url` (`postgres://…`, `postgresql://…`, `sqlite://path`).
pub(crate) async fn open(
    url: &str,
    options: &SqlStoreOptions,
    secrets: &Secrets,
) -> Result<SqlPool, SqlStoreError> {
    let url = url.trim();
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return open_postgres(url, options, secrets).await;
    }
    #[cfg(feature = "sqlite")]
    if let Some(path) = sqlite_path(url) {
        return open_sqlite(path, options, secrets).await;
    }
    let _ = (options, secrets);
    Err(SqlStoreError::UnsupportedUrl)
}

#[cfg(feature = "postgres")]
async fn open_postgres(
    url: &str,
    options: &SqlStoreOptions,
    secrets: &Secrets,
) -> Result<SqlPool, SqlStoreError> {
    use std::str::FromStr as _;
    let backend = Backend::Postgres.name();
    let connect = sqlx::postgres::PgConnectOptions::from_str(url)
        .map_err(|e| secrets.database(backend, &e))?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.timeout)
        .connect_with(connect);
    let pool = tokio::time::timeout(options.timeout, pool)
        .await
        .map_err(|_| SqlStoreError::TimedOut(backend))?
        .map_err(|e| secrets.database(backend, &e))?;
    Ok(SqlPool::Postgres(pool))
}

/// The file of a `sqlite://path` (or `sqlite:path`) URL, without its query.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(':')).then_some(path)
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(
    path: &str,
    options: &SqlStoreOptions,
    secrets: &Secrets,
) -> Result<SqlPool, SqlStoreError> {
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    let backend = Backend::Sqlite.name();
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(SqlStoreError::Directory)?;
    }
    // WAL: readers never wait for the writer; NORMAL sync in WAL mode loses nothing
    // committed when the application is killed (only, at worst, the last commits when
    // the machine loses power).
    let connect = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(options.timeout);
    let pool = retry_busy(|| {
        SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.timeout)
            .connect_with(connect.clone())
    });
    let pool = tokio::time::timeout(options.timeout, pool)
        .await
        .map_err(|_| SqlStoreError::TimedOut(backend))?
        .map_err(|e| secrets.database(backend, &e))?;
    Ok(SqlPool::Sqlite(pool))
}

/// Whether SQLite answered "busy" or "locked" (any extended code of them).
#[cfg(feature = "sqlite")]
fn is_busy(e: &sqlx::Error) -> bool {
    let code = match e {
        sqlx::Error::Database(d) => d.code().and_then(|c| c.parse::<i32>().ok()),
        _ => None,
    };
    code.is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

/// Runs `attempt` again while SQLite answers "busy". SQLite answers it at once, without
/// its busy timeout, where waiting could deadlock (a new file switched to WAL by several
/// connections, a transaction upgrading to a writer): instances starting together on one
/// file take turns. The caller bounds the whole with its timeout.
#[cfg(feature = "sqlite")]
async fn retry_busy<T, F, Fut>(mut attempt: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        match attempt().await {
            Err(e) if is_busy(&e) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_millis(100));
            }
            done => return done,
        }
    }
}

/// A fixed key for Postgres's advisory lock, so instances starting together create the
/// tables one after the other (`CREATE … IF NOT EXISTS` alone can race on Postgres).
#[cfg(feature = "postgres")]
const MIGRATION_LOCK: i64 = 0x6964_6d65_7371_6c78; // "idmesqlx"

/// Creates the tables and indexes of `namespace` if missing, in one transaction.
pub(crate) async fn migrate(pool: &SqlPool, namespace: &str) -> Result<(), sqlx::Error> {
    match pool {
        #[cfg(feature = "postgres")]
        SqlPool::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
            for statement in statements(namespace) {
                sqlx::query(&statement).execute(&mut *tx).await?;
            }
            tx.commit().await
        }
        #[cfg(feature = "sqlite")]
        SqlPool::Sqlite(pool) => {
            // The write lock at once: a deferred transaction upgrading to a writer while
            // another instance migrates would fail without waiting for the busy timeout.
            retry_busy(|| async {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                for statement in statements(namespace) {
                    sqlx::query(&statement).execute(&mut *tx).await?;
                }
                tx.commit().await
            })
            .await
        }
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_urls_name_a_file() {
        assert_eq!(sqlite_path("sqlite://data/app.db"), Some("data/app.db"));
        assert_eq!(
            sqlite_path("sqlite:///var/lib/app.db"),
            Some("/var/lib/app.db")
        );
        assert_eq!(sqlite_path("sqlite:app.db?mode=rwc"), Some("app.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite://"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }
}
