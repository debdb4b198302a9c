//! The shared store suite (`idme_core::store_tests!`) against SQLite files and a real
//! Postgres.

use std::time::Duration;

use idme_core::async_trait;
use idme_core::store::{LockingStore, Record, SessionIndex, SessionStore, StoreError};
use idme_session_sqlx::{SqlStore, SqlStoreOptions};

use super::common::postgres;

/// A store and what must outlive it (its SQLite file's directory).
#[derive(Debug)]
pub(crate) struct Kept {
    pub(crate) store: SqlStore,
    _dir: Option<tempfile::TempDir>,
}

/// A store on a new SQLite file in a temporary directory (removed with it).
pub(crate) async fn sqlite() -> Kept {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/sessions.db", dir.path().display());
    let store = SqlStore::connect(&url).await.unwrap();
    Kept {
        store,
        _dir: Some(dir),
    }
}

/// A store on tables of its own in the shared Postgres; `None` when Postgres is skipped
/// (`IDME_SKIP_POSTGRES=1`).
pub(crate) async fn postgres() -> Option<Kept> {
    let server = postgres::shared()?;
    let options = SqlStoreOptions::new()
        .namespace(postgres::fresh_namespace())
        .unwrap();
    let store = SqlStore::connect_with(&server.url(), options)
        .await
        .unwrap();
    Some(Kept { store, _dir: None })
}

#[async_trait]
impl SessionStore for Kept {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.store.load(id).await
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        self.store.save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        self.store.update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete(id).await
    }
}

#[async_trait]
impl SessionIndex for Kept {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.store.delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.store.delete_by_provider_sid(sid).await
    }
}

#[async_trait]
impl LockingStore for Kept {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.store.lock(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.store.release(key, owner).await
    }
}

mod on_sqlite {
    idme_core::store_tests!(super::sqlite().await, locks);
}

mod on_postgres {
    // `return`: the test passes without running when Postgres is skipped.
    idme_core::store_tests!(
        match super::postgres().await {
            Some(store) => store,
            None => return,
        },
        locks
    );
}
