//! [`AppServer`]: the authorization server as an engine extension: its routes, its bearer
//! tokens, and the grants that end with a person's sessions.

use std::sync::{Arc, OnceLock};

use idme_core::adapter::RouteRequest;
use idme_core::extension::{Extension, ExtensionRoute, Host, SessionsEnded, SessionsEndedReason};
use idme_core::store::StoreError;
use idme_core::{Clock, CookieKeys, Error, IdmeConfig, IdmeUser, Reply, SharedStore};
use url::Url;

use crate::Apps;
use crate::config::AppClients;

/// The paths of the authorization server's routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppPaths {
    /// A device asks for a code (`POST /auth/device/code`).
    pub(crate) device_code: String,
    /// The person's page for a device's code (`GET`/`POST /auth/device`).
    pub(crate) device: String,
    /// A device polls for its tokens (`POST /auth/device/token`).
    pub(crate) device_token: String,
    /// A native app starts a sign-in (`GET`/`POST /auth/authorize`).
    pub(crate) authorize: String,
    /// The token endpoint (`POST /auth/token`).
    pub(crate) token: String,
    /// Token revocation (`POST /auth/revoke`).
    pub(crate) revoke: String,
}

impl Default for AppPaths {
    fn default() -> Self {
        Self {
            device_code: "/auth/device/code".into(),
            device: "/auth/device".into(),
            device_token: "/auth/device/token".into(),
            authorize: "/auth/authorize".into(),
            token: "/auth/token".into(),
            revoke: "/auth/revoke".into(),
        }
    }
}

/// What the server needs of the engine's configuration, read once.
pub(crate) struct Ctx {
    pub(crate) cookie_keys: CookieKeys,
    pub(crate) clock: Clock,
    pub(crate) paths: AppPaths,
    pub(crate) redirect_uri: Url,
    /// How long a bearer user is reused here (the engine's `session_store_cache`): the
    /// bound on a revocation made on another instance.
    pub(crate) bearer_cache: std::time::Duration,
    page_notice: Option<String>,
}

impl Ctx {
    /// The notice on every page (the engine's).
    pub(crate) fn page_notice(&self) -> Option<&str> {
        self.page_notice.as_deref()
    }
}

/// One call's view: the server's context and the engine answering the request (its
/// [`Host`]).
pub(crate) struct Inner<'h> {
    pub(crate) config: Arc<Ctx>,
    pub(crate) host: &'h dyn Host,
}

/// The routes, in the order [`Extension::routes`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppRoute {
    DeviceCode,
    DevicePage,
    DeviceToken,
    Authorize,
    Token,
    Revoke,
}

const ROUTES: [AppRoute; 6] = [
    AppRoute::DeviceCode,
    AppRoute::DevicePage,
    AppRoute::DeviceToken,
    AppRoute::Authorize,
    AppRoute::Token,
    AppRoute::Revoke,
];

/// The authorization server for the application's own devices and native apps, to
/// register on the engine with [`EngineBuilder::extension`](idme_core::EngineBuilder::extension).
///
/// - Devices use the device grant (RFC 8628): `POST /auth/device/code`, the person's page
///   `/auth/device`, polls at `POST /auth/device/token`.
/// - Native and mobile apps use the authorization code with PKCE (RFC 8252):
///   `/auth/authorize`, then `POST /auth/token`.
/// - Both present the access tokens they get as `Authorization: Bearer`, which the
///   adapters' `IdmeUser` accepts (showing only what the grant was given), refresh them
///   at `POST /auth/token` (rotating) and revoke them at `POST /auth/revoke` (RFC 7009).
///
/// Every grant needs the person's approval on a page of the application; a grant ends
/// with the web session that approved it (a logout in that browser), with every session of
/// the person (signing out everywhere, a back-channel logout), or at its lifetime's end.
pub struct AppServer {
    clients: AppClients,
    store: Option<Arc<dyn SharedStore>>,
    state: OnceLock<(Arc<Ctx>, Apps)>,
}

impl std::fmt::Debug for AppServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppServer")
            .field("clients", &self.clients)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl AppServer {
    /// The server for `clients`, keeping grants and codes in this process's memory (a
    /// single instance; they are lost on restart). Several instances need
    /// [`with_store`](Self::with_store).
    pub fn new(clients: AppClients) -> Self {
        Self {
            clients,
            store: None,
            state: OnceLock::new(),
        }
    }

    /// Keeps grants, codes and the single-use marks in `store`, shared by every instance
    /// given the same one (for example `RedisStore::with_prefix("idme:apps:")`). The store
    /// must end records by user and provider session and provide a lock exclusive across
    /// instances ([`SharedStore`]: [`SessionIndex`](idme_core::SessionIndex) and
    /// [`LockingStore`](idme_core::LockingStore)): a store without the lock does not compile
    /// here.
    ///
    /// ```compile_fail
    /// # use idme_core::session::store::{Record, SessionIndex, SessionStore, StoreError};
    /// /// A store without a lock.
    /// #[derive(Debug, Default)]
    /// struct NoLock(idme_core::MemoryStore);
    /// #[idme_core::async_trait]
    /// impl SessionStore for NoLock {
    ///     async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> { self.0.load(id).await }
    ///     async fn save(&self, r: &Record) -> Result<(), StoreError> { self.0.save(r).await }
    ///     async fn update(&self, r: &Record) -> Result<bool, StoreError> { self.0.update(r).await }
    ///     async fn delete(&self, id: &str) -> Result<(), StoreError> { self.0.delete(id).await }
    /// }
    /// #[idme_core::async_trait]
    /// impl SessionIndex for NoLock {
    ///     async fn delete_by_sub(&self, s: &str) -> Result<u64, StoreError> { self.0.delete_by_sub(s).await }
    ///     async fn delete_by_provider_sid(&self, s: &str) -> Result<u64, StoreError> { self.0.delete_by_provider_sid(s).await }
    /// }
    /// let clients = idme_apps::AppClients::new(["tv"]);
    /// let _ = idme_apps::AppServer::new(clients).with_store(NoLock::default());
    /// ```
    ///
    /// The same store with a real lock does:
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use idme_core::LockingStore;
    /// # use idme_core::session::store::{Record, SessionIndex, SessionStore, StoreError};
    /// # #[derive(Debug, Default)]
    /// # struct Locked(idme_core::MemoryStore);
    /// # #[idme_core::async_trait]
    /// # impl SessionStore for Locked {
    /// #     async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> { self.0.load(id).await }
    /// #     async fn save(&self, r: &Record) -> Result<(), StoreError> { self.0.save(r).await }
    /// #     async fn update(&self, r: &Record) -> Result<bool, StoreError> { self.0.update(r).await }
    /// #     async fn delete(&self, id: &str) -> Result<(), StoreError> { self.0.delete(id).await }
    /// # }
    /// # #[idme_core::async_trait]
    /// # impl SessionIndex for Locked {
    /// #     async fn delete_by_sub(&self, s: &str) -> Result<u64, StoreError> { self.0.delete_by_sub(s).await }
    /// #     async fn delete_by_provider_sid(&self, s: &str) -> Result<u64, StoreError> { self.0.delete_by_provider_sid(s).await }
    /// # }
    /// #[idme_core::async_trait]
    /// impl LockingStore for Locked {
    ///     async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
    ///         self.0.lock(key, owner, ttl).await
    ///     }
    ///     async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
    ///         self.0.release(key, owner).await
    ///     }
    /// }
    /// let clients = idme_apps::AppClients::new(["tv"]);
    /// let _ = idme_apps::AppServer::new(clients).with_store(Locked::default());
    /// ```
    pub fn with_store(mut self, store: impl SharedStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The registered clients.
    pub fn clients(&self) -> &AppClients {
        &self.clients
    }

    /// The state, made on first use from the engine's configuration.
    fn state(&self, host: &dyn Host) -> &(Arc<Ctx>, Apps) {
        self.state.get_or_init(|| {
            let config = host.config();
            let ctx = Ctx {
                cookie_keys: config.cookie_keys().clone(),
                clock: config.clock().clone(),
                paths: AppPaths::default(),
                redirect_uri: config.redirect_uri().clone(),
                bearer_cache: config.session_store_cache(),
                page_notice: config.page_notice().map(str::to_owned),
            };
            let store = self.store.clone().unwrap_or_else(|| {
                Arc::new(idme_core::MemoryStore::with_clock(config.clock().clone()))
            });
            (Arc::new(ctx), Apps::new(self.clients.clone(), store))
        })
    }
}

#[async_trait::async_trait]
impl Extension for AppServer {
    fn check(&self, config: &IdmeConfig) -> Result<(), String> {
        self.clients.check().map_err(|e| e.to_string())?;
        if config.has_session_store() && self.store.is_none() {
            tracing::warn!(
                target: "idme::apps",
                "app clients are on with a shared session store but grants in this instance's memory: give every instance the same store (AppServer::with_store)"
            );
        }
        Ok(())
    }

    fn routes(&self) -> Vec<ExtensionRoute> {
        let paths = AppPaths::default();
        ROUTES
            .iter()
            .map(|route| {
                let (path, get, post) = match route {
                    AppRoute::DeviceCode => (&paths.device_code, false, true),
                    AppRoute::DevicePage => (&paths.device, true, true),
                    AppRoute::DeviceToken => (&paths.device_token, false, true),
                    AppRoute::Authorize => (&paths.authorize, true, true),
                    AppRoute::Token => (&paths.token, false, true),
                    AppRoute::Revoke => (&paths.revoke, false, true),
                };
                ExtensionRoute {
                    path: path.clone(),
                    get,
                    post,
                }
            })
            .collect()
    }

    async fn answer(&self, host: &dyn Host, route: usize, req: RouteRequest<'_>) -> Reply {
        let (config, apps) = self.state(host);
        let inner = Inner {
            config: config.clone(),
            host,
        };
        let header = req.header;
        match (ROUTES.get(route), req.post) {
            (Some(AppRoute::DeviceCode), true) => {
                crate::device::authorization(&inner, apps, req.body, req.remote_addr).await
            }
            (Some(AppRoute::DevicePage), false) => {
                crate::device_page::page(&inner, apps, req.query, &req.cookies).await
            }
            (Some(AppRoute::DevicePage), true) => {
                let decide = crate::Decide {
                    body: req.body,
                    cookies: &req.cookies,
                    origin: header("origin"),
                    sec_fetch_site: header("sec-fetch-site"),
                };
                crate::device_page::decide(&inner, apps, decide).await
            }
            (Some(AppRoute::Authorize), false) => {
                crate::authorize::authorize(&inner, apps, req.query, &req.cookies).await
            }
            (Some(AppRoute::Authorize), true) => {
                let decide = crate::Decide {
                    body: req.body,
                    cookies: &req.cookies,
                    origin: header("origin"),
                    sec_fetch_site: header("sec-fetch-site"),
                };
                crate::authorize::decide(&inner, apps, decide).await
            }
            (Some(AppRoute::Token | AppRoute::DeviceToken), true) => {
                let authorization = header("authorization");
                crate::token_endpoint::token(&inner, apps, req.body, authorization).await
            }
            (Some(AppRoute::Revoke), true) => {
                crate::revoke::revoke(&inner, apps, req.body, header("authorization")).await
            }
            _ => Reply::html(405, "Method not allowed.".into()),
        }
    }

    fn accepts_bearer(&self) -> bool {
        true
    }

    fn recognizes_bearer(&self, token: &str) -> bool {
        crate::tokens::has_token_shape(token)
    }

    async fn authenticate_bearer(&self, host: &dyn Host, token: &str) -> Result<IdmeUser, Error> {
        let (config, apps) = self.state(host);
        let inner = Inner {
            config: config.clone(),
            host,
        };
        crate::bearer::authenticate(&inner, apps, token).await
    }

    async fn sessions_ended(
        &self,
        host: &dyn Host,
        ended: SessionsEnded<'_>,
    ) -> Result<(), StoreError> {
        let (config, apps) = self.state(host);
        let revoked = match ended.reason {
            // One browser signed out: the grants its web session approved.
            SessionsEndedReason::Logout => match ended.session_id {
                Some(session) => {
                    crate::approvals::revoke(apps, &config.cookie_keys, session).await?
                }
                None => 0,
            },
            // Everywhere, or the provider ended the person's session(s) (back-channel
            // logout), or its security event ended their access: every grant of the person.
            _ => {
                let deleted = async {
                    let by_sid = match (ended.reason, ended.provider_sid) {
                        (SessionsEndedReason::BackchannelLogout, Some(sid)) => {
                            apps.store.delete_by_provider_sid(sid).await?
                        }
                        _ => 0,
                    };
                    match (by_sid, ended.sub) {
                        (0, Some(sub)) => apps.store.delete_by_sub(sub).await,
                        (n, _) => Ok(n),
                    }
                }
                .await;
                // After the writes: the person's bearer users reused here end with them.
                apps.bearers.remove_person(ended.sub);
                deleted?
            }
        };
        if revoked > 0 {
            tracing::info!(target: "idme::apps", revoked, reason = ?ended.reason, "app grants revoked as sessions ended");
        }
        Ok(())
    }
}
