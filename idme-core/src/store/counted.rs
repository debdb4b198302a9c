//! [`Counted`]: the configured session store, with each failed call counted in
//! `idme_store_errors_total{operation}`. The engine wraps the store it is given in it, so
//! every path that meets a store failure (sign-in, authentication, refresh, logout,
//! back-channel logout, extensions) is counted once, where the store answered.

use std::time::Duration;

use async_trait::async_trait;

use super::{LockingStore, Record, SessionIndex, SessionStore, StoreError};
use crate::metrics::{StoreOperation, store_error};

/// A store whose failures are counted (see the [module docs](self)).
#[derive(Debug)]
pub(crate) struct Counted<S>(pub(crate) S);

/// Counts `result` when it failed, as a call of `operation`.
fn count<T>(operation: StoreOperation, result: Result<T, StoreError>) -> Result<T, StoreError> {
    if result.is_err() {
        store_error(operation);
    }
    result
}

#[async_trait]
impl<S: SessionStore> SessionStore for Counted<S> {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        count(StoreOperation::Load, self.0.load(id).await)
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        count(StoreOperation::Save, self.0.save(record).await)
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        count(StoreOperation::Update, self.0.update(record).await)
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        count(StoreOperation::Delete, self.0.delete(id).await)
    }
}

#[async_trait]
impl<S: SessionIndex> SessionIndex for Counted<S> {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        count(StoreOperation::DeleteBySub, self.0.delete_by_sub(sub).await)
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        let result = self.0.delete_by_provider_sid(sid).await;
        count(StoreOperation::DeleteByProviderSid, result)
    }
}

#[async_trait]
impl<S: LockingStore> LockingStore for Counted<S> {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        count(StoreOperation::Lock, self.0.lock(key, owner, ttl).await)
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        count(StoreOperation::Release, self.0.release(key, owner).await)
    }
}
