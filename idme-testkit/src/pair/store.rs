//! A session store that can be switched off, for tests of an unavailable store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use idme_core::MemoryStore;
use idme_core::session::store::{LockingStore, Record, SessionIndex, SessionStore, StoreError};

/// A [`MemoryStore`] whose every operation fails while it is [down](Self::set_down), as
/// a Redis that cannot be reached does. Clones share the store and the switch.
#[derive(Debug, Clone, Default)]
pub struct SwitchableStore {
    inner: Arc<MemoryStore>,
    down: Arc<AtomicBool>,
}

impl SwitchableStore {
    /// A store that is up and empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Switches the store off (`true`: every call fails) or on again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new("the session store is switched off"))
        } else {
            Ok(())
        }
    }
}

#[idme_core::async_trait]
impl SessionStore for SwitchableStore {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.check()?;
        self.inner.load(id).await
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        self.check()?;
        self.inner.save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(id).await
    }
}

#[idme_core::async_trait]
impl SessionIndex for SwitchableStore {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.delete_by_provider_sid(sid).await
    }
}

#[idme_core::async_trait]
impl LockingStore for SwitchableStore {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.lock(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.release(key, owner).await
    }
}
