//! The engine's app-client state, held beside its other state: the registered clients,
//! the store their grants live in, the guessing limits, and the per-family rotation locks.

use std::sync::Arc;

use super::throttle;
use crate::config::{AppClients, IdmeConfig};
use crate::session::store::{MemoryStore, SessionStore};

/// Locks serialising the rotation of a family within this process.
const ROTATION_STRIPES: usize = 64;

/// The engine's app-client state: the clients, where grants live, the guessing limits.
pub(crate) struct Apps {
    pub(crate) clients: AppClients,
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) throttle: throttle::Throttle,
    pub(crate) taken: throttle::Taken,
    rotation: Vec<tokio::sync::Mutex<()>>,
}

impl Apps {
    /// The state of `config`'s app clients, if they are on.
    pub(crate) fn new(config: &IdmeConfig) -> Option<Self> {
        let clients = config.app_clients.clone()?;
        let store = config
            .app_store
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryStore::with_clock(config.clock.clone())));
        Some(Self {
            clients,
            store,
            throttle: Default::default(),
            taken: Default::default(),
            rotation: (0..ROTATION_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        })
    }

    /// The in-process lock of the family `id`.
    pub(crate) fn rotation_lock(&self, id: &str) -> &tokio::sync::Mutex<()> {
        let stripe = id.bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        &self.rotation[stripe % ROTATION_STRIPES]
    }
}
