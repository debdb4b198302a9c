//! A memory app store that the limit and hot-path tests watch and steer: it counts
//! lookups (all, and by record kind), writes and lock attempts, can hold every rotation
//! lock (as another instance would), and can make each lookup take a while (a store
//! across a network).
// Not every test file uses every knob.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use idme_core::session::store::{Record, SessionIndex, StoreError};
use idme_core::{LockingStore, MemoryStore, SessionStore};

/// What the test sees and sets.
#[derive(Debug, Default)]
pub(crate) struct Knobs {
    /// Lookups of user-code pointers (`u.…`).
    pub(crate) user_code_loads: AtomicU64,
    /// Every lookup.
    pub(crate) loads: AtomicU64,
    /// Every save and update.
    pub(crate) writes: AtomicU64,
    /// Every lock taken (`LockingStore::lock`).
    pub(crate) locks: AtomicU64,
    /// Locks of rotations (`….rotate`).
    pub(crate) rotation_locks: AtomicU64,
    /// Whether another instance holds every rotation lock.
    pub(crate) rotation_held: AtomicBool,
    /// Milliseconds every lookup takes.
    pub(crate) load_delay_ms: AtomicU64,
}

/// The store: a [`MemoryStore`] behind the knobs, yielding at every call so concurrent
/// requests interleave at each round trip.
#[derive(Debug, Default, Clone)]
pub(crate) struct Probe {
    inner: Arc<MemoryStore>,
    pub(crate) knobs: Arc<Knobs>,
}

#[idme_core::async_trait]
impl SessionStore for Probe {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.knobs.loads.fetch_add(1, Ordering::SeqCst);
        if id.starts_with("u.") {
            self.knobs.user_code_loads.fetch_add(1, Ordering::SeqCst);
        }
        match self.knobs.load_delay_ms.load(Ordering::SeqCst) {
            0 => tokio::task::yield_now().await,
            ms => tokio::time::sleep(Duration::from_millis(ms)).await,
        }
        self.inner.load(id).await
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        self.knobs.writes.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        self.inner.save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        self.knobs.writes.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        self.inner.update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.inner.delete(id).await
    }
}

#[idme_core::async_trait]
impl SessionIndex for Probe {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.inner.delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.inner.delete_by_provider_sid(sid).await
    }
}

#[idme_core::async_trait]
impl LockingStore for Probe {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.knobs.locks.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        if key.ends_with(".rotate") {
            self.knobs.rotation_locks.fetch_add(1, Ordering::SeqCst);
            if self.knobs.rotation_held.load(Ordering::SeqCst) {
                return Ok(false);
            }
        }
        self.inner.lock(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.inner.release(key, owner).await
    }
}
