//! The engine's state, shared by every clone of [`Idme`](crate::Idme): configuration,
//! provider, the single-use login record, the session bookkeeping, the opened-cookie
//! cache and the extensions. Only the engine layer reaches it (the engine, its
//! per-request session work in `authenticate` and `refresh`, and the adapter glue); the
//! flows get the parts they need as plain values ([`Inner::deps`]).

use std::sync::Arc;

use crate::config::IdmeConfig;
use crate::extension::{Extension, ExtensionRoute};
use crate::flow::replay::UsedLogins;
use crate::provider::Provider;
use crate::session::Session;
use crate::session::bookkeeping::Sessions;

/// Everything an engine holds, behind the `Arc` its clones share.
pub(crate) struct Inner {
    pub(crate) config: IdmeConfig,
    pub(crate) provider: Provider,
    /// The security-event transmitter's keys, when the receiver is configured.
    pub(crate) events_keys: Option<Provider>,
    pub(crate) used_logins: UsedLogins,
    pub(crate) sessions: Sessions,
    /// Session cookies opened recently, so the hot path does not decrypt them again.
    pub(crate) opened: crate::session::cache::OpenedCache<Session>,
    /// The extensions registered on the engine ([`EngineBuilder::extension`](crate::EngineBuilder::extension)).
    pub(crate) extensions: Vec<Arc<dyn Extension>>,
    /// The extensions' routes: (extension index, its route index, the route).
    pub(crate) extension_routes: Vec<(usize, usize, ExtensionRoute)>,
}

/// How many opened session cookies are kept (a few MB at most).
pub(crate) const OPENED_CACHE_CAPACITY: usize = 8192;

impl Inner {
    /// What the flows need of the engine.
    pub(crate) fn deps(&self) -> crate::flow::driver::Deps<'_> {
        crate::flow::driver::Deps {
            config: &self.config,
            provider: &self.provider,
            used_logins: &self.used_logins,
        }
    }
}
