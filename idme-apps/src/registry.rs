//! The authorization server's state: the registered clients, the store their grants live
//! in, the limits, and the locks serialising a family's rotation or a person's grants of
//! a client (in this process, then across instances).

use std::sync::Arc;
use std::time::Duration;

use super::{codes, throttle};
use crate::config::AppClients;
use idme_core::SharedStore;
use idme_core::session::store::StoreError;

/// In-process locks, shared by keys of the same stripe.
const LOCK_STRIPES: usize = 64;
/// How long a request waits for an in-process lock before answering "busy".
const LOCAL_WAIT: Duration = Duration::from_secs(2);
/// Tries of a store lock held by another instance, [`STORE_RETRY`] apart, before "busy".
const STORE_TRIES: u32 = 8;
/// The pause between two tries of a store lock.
const STORE_RETRY: Duration = Duration::from_millis(25);

/// The server's state: the clients, where grants live, the limits and locks.
pub(crate) struct Apps {
    pub(crate) clients: AppClients,
    pub(crate) store: Arc<dyn SharedStore>,
    pub(crate) throttle: throttle::Throttle,
    pub(crate) taken: throttle::Taken,
    /// Bearer users authenticated here recently.
    pub(crate) bearers: crate::bearer_cache::BearerCache,
    /// Device requests polled here, with their pacing.
    pub(crate) polls: crate::polls::Polls,
    stripes: Vec<tokio::sync::Mutex<()>>,
}

/// Why [`Apps::exclusive`] could not lock.
#[derive(Debug)]
pub(crate) enum Contended {
    /// Held here or by another instance past the waits: try again shortly.
    Busy,
    /// The store failed.
    Down(StoreError),
}

/// A key locked in this process and in the store, until [`release`](Self::release)d
/// (or, if a release is missed, the store lock's time-to-live).
pub(crate) struct Exclusive<'a> {
    _local: tokio::sync::MutexGuard<'a, ()>,
    store: &'a dyn SharedStore,
    key: String,
    owner: String,
}

impl Exclusive<'_> {
    /// Releases the store's lock, then this process's.
    pub(crate) async fn release(self) {
        if let Err(e) = self.store.release(&self.key, &self.owner).await {
            tracing::warn!(target: "idme::apps", error = %e, "app lock not released (it expires)");
        }
    }
}

impl Apps {
    /// The state of `clients`, their grants in `store`.
    pub(crate) fn new(clients: AppClients, store: Arc<dyn SharedStore>) -> Self {
        Self {
            clients,
            store,
            throttle: Default::default(),
            taken: Default::default(),
            bearers: Default::default(),
            polls: Default::default(),
            stripes: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// The in-process lock of `key`.
    fn stripe(&self, key: &str) -> &tokio::sync::Mutex<()> {
        let stripe = key.bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        &self.stripes[stripe % LOCK_STRIPES]
    }

    /// Locks `key` in this process (waiting up to [`LOCAL_WAIT`]), then in the store for
    /// at most `ttl` (tried [`STORE_TRIES`] times). Callers lock only what they have
    /// loaded and checked, so a made-up key never holds a lock someone else needs.
    pub(crate) async fn exclusive(
        &self,
        key: &str,
        ttl: Duration,
    ) -> Result<Exclusive<'_>, Contended> {
        let local = tokio::time::timeout(LOCAL_WAIT, self.stripe(key).lock())
            .await
            .map_err(|_| Contended::Busy)?;
        let owner = codes::random(12);
        for attempt in 1..=STORE_TRIES {
            let taken = self
                .store
                .lock(key, &owner, ttl)
                .await
                .map_err(Contended::Down)?;
            if taken {
                return Ok(Exclusive {
                    _local: local,
                    store: &*self.store,
                    key: key.to_owned(),
                    owner,
                });
            }
            if attempt < STORE_TRIES {
                tokio::time::sleep(STORE_RETRY).await;
            }
        }
        Err(Contended::Busy)
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
