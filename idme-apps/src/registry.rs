//! The authorization server's state: the registered clients, the store their grants live
//! in, the guessing limits, and the per-family rotation locks.

use std::sync::Arc;
use std::time::Duration;

use super::{codes, throttle};
use crate::config::AppClients;
use idme_core::LockingStore;
use idme_core::session::store::StoreError;

/// Locks serialising the rotation of a family within this process.
const ROTATION_STRIPES: usize = 64;

/// The engine's app-client state: the clients, where grants live, the guessing limits.
pub(crate) struct Apps {
    pub(crate) clients: AppClients,
    pub(crate) store: Arc<dyn LockingStore>,
    pub(crate) throttle: throttle::Throttle,
    pub(crate) taken: throttle::Taken,
    rotation: Vec<tokio::sync::Mutex<()>>,
}

impl Apps {
    /// The state of `clients`, their grants in `store`.
    pub(crate) fn new(clients: AppClients, store: Arc<dyn LockingStore>) -> Self {
        Self {
            clients,
            store,
            throttle: Default::default(),
            taken: Default::default(),
            rotation: (0..ROTATION_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// The in-process lock of the family `id`.
    pub(crate) fn rotation_lock(&self, id: &str) -> &tokio::sync::Mutex<()> {
        let stripe = id.bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        &self.rotation[stripe % ROTATION_STRIPES]
    }

    /// Takes `key` once until `until` (Unix seconds): in this process, then across the
    /// instances sharing the store (its lock as the "taken" marker). `Ok(false)` when it
    /// was taken already.
    pub(crate) async fn take_once(
        &self,
        key: &str,
        until: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        if !self.taken.take(key, until, now) {
            return Ok(false);
        }
        let ttl = Duration::from_secs(until.saturating_sub(now).max(1));
        self.store.lock(key, &codes::random(12), ttl).await
    }
}
