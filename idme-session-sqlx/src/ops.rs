//! The store traits on SQL: one statement per call.

use std::time::Duration;

use idme_core::async_trait;
use idme_core::store::{LockingStore, Record, SessionIndex, SessionStore, StoreError};
use sqlx::Row as _;

use crate::{SqlStore, int, now, on_pool};

impl SqlStore {
    /// Deletes the records whose column (`sub` or `provider_sid` statement) matches.
    async fn delete_matching(&self, sql: &str, value: &str) -> Result<u64, StoreError> {
        Ok(on_pool!(self, |pool| async {
            sqlx::query(sql)
                .bind(value)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?)
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let sql = &self.inner.sql.load;
        let now = int(now());
        let found = on_pool!(self, |pool| async {
            let row = sqlx::query(sql)
                .bind(id)
                .bind(now)
                .fetch_optional(pool)
                .await?;
            row.map(|row| {
                Ok::<_, sqlx::Error>((
                    row.try_get::<String, _>(0)?,
                    row.try_get::<Option<String>, _>(1)?,
                    row.try_get::<i64, _>(2)?,
                    row.try_get::<String, _>(3)?,
                ))
            })
            .transpose()
        })?;
        Ok(found.map(|(sub, psid, exp, data)| {
            Record::new(id, sub, psid, u64::try_from(exp).unwrap_or(0), data)
        }))
    }

    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        if record.expires_at <= now() {
            // Already over: whatever is stored goes, nothing is written.
            return self.delete(&record.id).await;
        }
        let sql = &self.inner.sql.save;
        on_pool!(self, |pool| async {
            sqlx::query(sql)
                .bind(&record.id)
                .bind(&record.sub)
                .bind(&record.provider_sid)
                .bind(int(record.expires_at))
                .bind(&record.data)
                .execute(pool)
                .await
                .map(drop)
        })?;
        Ok(())
    }

    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        if record.expires_at <= now() {
            self.delete(&record.id).await?;
            return Ok(false);
        }
        let sql = &self.inner.sql.update;
        let now = int(now());
        let updated = on_pool!(self, |pool| async {
            sqlx::query(sql)
                .bind(&record.id)
                .bind(&record.sub)
                .bind(&record.provider_sid)
                .bind(int(record.expires_at))
                .bind(&record.data)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(updated == 1)
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.delete_matching(&self.inner.sql.delete, id)
            .await
            .map(drop)
    }
}

#[async_trait]
impl SessionIndex for SqlStore {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.delete_matching(&self.inner.sql.delete_by_sub, sub)
            .await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.delete_matching(&self.inner.sql.delete_by_provider_sid, sid)
            .await
    }
}

/// The lock is a row of `{namespace}_locks`, taken by one upsert that only overwrites an
/// expired row (or the owner's own: a retried call): exclusive across every instance on
/// the database.
#[async_trait]
impl LockingStore for SqlStore {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now_ms = now_ms();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let sql = &self.inner.sql.lock;
        let taken = on_pool!(self, |pool| async {
            sqlx::query(sql)
                .bind(key)
                .bind(owner)
                .bind(int(now_ms.saturating_add(ttl_ms)))
                .bind(int(now_ms))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(taken == 1)
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let sql = &self.inner.sql.release;
        on_pool!(self, |pool| async {
            sqlx::query(sql)
                .bind(key)
                .bind(owner)
                .execute(pool)
                .await
                .map(drop)
        })?;
        Ok(())
    }
}

/// Unix milliseconds now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
