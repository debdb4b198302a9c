//! Deleting expired records and locks, in bounded batches, in the background.

use std::time::Duration;

use crate::error::SqlStoreError;
use crate::ops::now_ms;
use crate::{SqlStore, int, now, on_pool};

impl SqlStore {
    /// Deletes every expired record and lock now, at most
    /// [`sweep_batch`](crate::SqlStoreOptions::sweep_batch) rows per statement (so no
    /// statement holds the table long); returns how many records went. The background
    /// task calls it every [`sweep_every`](crate::SqlStoreOptions::sweep_every).
    pub async fn sweep(&self) -> Result<u64, SqlStoreError> {
        let mut records = 0;
        loop {
            let n = self.sweep_batch(false).await?;
            records += n;
            if n < u64::from(self.inner.options.sweep_batch) {
                break;
            }
        }
        while self.sweep_batch(true).await? == u64::from(self.inner.options.sweep_batch) {}
        Ok(records)
    }

    /// One statement: deletes at most a batch of expired records (or locks).
    pub(crate) async fn sweep_batch(&self, locks: bool) -> Result<u64, SqlStoreError> {
        let (sql, now) = if locks {
            (&self.inner.sql.sweep_locks, int(now_ms()))
        } else {
            (&self.inner.sql.sweep_records, int(now()))
        };
        let batch = i64::from(self.inner.options.sweep_batch);
        on_pool!(self, |pool| async {
            sqlx::query(sql)
                .bind(now)
                .bind(batch)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
    }
}

/// Sweeps `store` every `every` until `stopped` resolves (its sender, held by the
/// store, is dropped with the last clone). The task holds the store only weakly.
pub(crate) fn spawn(
    store: &SqlStore,
    every: Duration,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let weak = std::sync::Arc::downgrade(&store.inner);
    tokio::spawn(async move {
        loop {
            if tokio::time::timeout(every, &mut stopped).await.is_ok() {
                return;
            }
            let Some(inner) = weak.upgrade() else { return };
            match (SqlStore { inner }).sweep().await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::debug!(target: "idme::session", records = n, "expired records deleted")
                }
                Err(e) => {
                    tracing::warn!(target: "idme::session", error = %e, "sweeping expired records failed")
                }
            }
        }
    });
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use std::time::Duration;

    use crate::{SqlPool, SqlStore, SqlStoreOptions, int, now};

    async fn store(options: SqlStoreOptions) -> (tempfile::TempDir, SqlStore, sqlx::SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sweep.db", dir.path().display());
        let store = SqlStore::connect_with(&url, options).await.unwrap();
        #[allow(irrefutable_let_patterns)]
        let SqlPool::Sqlite(pool) = store.pool().clone() else {
            unreachable!()
        };
        (dir, store, pool)
    }

    /// Inserts `n` records that expired ten seconds ago, and one lock that did.
    async fn expired(pool: &sqlx::SqlitePool, prefix: &str, n: usize) {
        for i in 0..n {
            sqlx::query(
                "INSERT INTO idme_sessions_records (id, sub, expires_at, data) VALUES ($1, 's', $2, 'd')",
            )
            .bind(format!("{prefix}-{i}"))
            .bind(int(now()) - 10)
            .execute(pool)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO idme_sessions_locks (name, owner, expires_at_ms) VALUES ($1, 'o', 1)",
        )
        .bind(prefix)
        .execute(pool)
        .await
        .unwrap();
    }

    async fn count(pool: &sqlx::SqlitePool, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_sweep_deletes_at_most_a_batch_per_statement() {
        let options = SqlStoreOptions::new().sweep_every(None).sweep_batch(2);
        let (_dir, store, pool) = store(options).await;
        expired(&pool, "old", 5).await;
        let live = idme_core::store::Record::new("live", "s", None, now() + 600, "d");
        idme_core::store::SessionStore::save(&store, &live)
            .await
            .unwrap();
        let mut batches = Vec::new();
        for _ in 0..4 {
            batches.push(store.sweep_batch(false).await.unwrap());
        }
        assert_eq!(batches, [2, 2, 1, 0]);
        expired(&pool, "again", 5).await;
        assert_eq!(store.sweep().await.unwrap(), 5, "a sweep repeats batches");
        assert_eq!(
            count(&pool, "idme_sessions_records").await,
            1,
            "the live one"
        );
        assert_eq!(count(&pool, "idme_sessions_locks").await, 0);
    }

    #[tokio::test]
    async fn the_background_sweep_runs_until_the_store_is_dropped() {
        let options = SqlStoreOptions::new().sweep_every(Some(Duration::from_millis(20)));
        let (_dir, store, pool) = store(options).await;
        expired(&pool, "before", 3).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(count(&pool, "idme_sessions_records").await, 0, "swept");
        let clone = store.clone();
        drop(store);
        expired(&pool, "clone-alive", 3).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            count(&pool, "idme_sessions_records").await,
            0,
            "a clone keeps it"
        );
        drop(clone);
        tokio::time::sleep(Duration::from_millis(50)).await;
        expired(&pool, "after", 3).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(count(&pool, "idme_sessions_records").await, 3, "stopped");
    }
}
