//! The running emulator: start, settings at run time, shutdown.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::EmulatorConfig;
use crate::encryption::RpEncryptionKey;
use crate::faults::{Fault, Faults};
use crate::keys::{self, KeyRing, SigningKey};
use crate::persona::Persona;
use crate::routes;
use crate::state::{Counters, Settings, Shared, Stats, Store, lock};
use crate::util::SimClock;

/// How long [`Emulator::shutdown`] lets in-flight requests finish before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running in-process ID.me emulator: a real OpenID provider on a loopback port.
///
/// Cheap to clone (all clones share one server). The server runs until the `Emulator` and all its clones are
/// dropped, or [`Emulator::shutdown`] is called. It runs on the Tokio runtime that called
/// [`Emulator::start`], so it also stops when that runtime shuts down.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use idme_testkit::{Emulator, EmulatorConfig, Persona};
/// let idme = Emulator::start(EmulatorConfig {
///     redirect_uris: vec!["http://127.0.0.1:3000/auth/callback".into()],
///     auto_user: Some(Persona::Veteran),
///     ..Default::default()
/// })
/// .await?;
/// println!("issuer {} client {}", idme.issuer(), idme.client_id());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("issuer", &self.inner.shared.issuer)
            .field("client_id", &self.inner.shared.client_id)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds the configured address and starts serving on the current Tokio runtime.
    ///
    /// The first start in a process generates an RSA-2048 key (on the blocking pool), which every later
    /// emulator in the process reuses.
    ///
    /// # Errors
    /// Binding fails, the client id or secret is empty, a redirect URI is not an absolute URL without
    /// fragment, or key generation fails.
    pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        check_config(&config)?;
        let key = keys::off_thread(keys::first_key).await?;
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        let local_addr = listener.local_addr()?;
        let shared = shared(
            config,
            format!("http://{}", reachable(local_addr)),
            key,
            SimClock::default(),
        );

        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let app = routes::router(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // Resolves on an explicit shutdown and when the last Emulator handle drops the sender.
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "idme-testkit server stopped with an error");
            }
        });
        tracing::info!(issuer = %shared.issuer, client_id = %shared.client_id, "idme-testkit emulator listening");

        Ok(Emulator {
            inner: Arc::new(Inner {
                shared,
                local_addr,
                shutdown: Mutex::new(Some(stop_tx)),
                task: Mutex::new(Some(task)),
            }),
        })
    }

    /// An emulator that listens on no port: its endpoints are reached only through
    /// [`handle`](Self::handle) (no socket is ever opened). Its base URL is
    /// `https://idme.emulator.invalid`, and [`local_addr`](Self::local_addr) is port 0.
    ///
    /// # Errors
    /// As [`start`](Self::start), except binding.
    pub async fn in_memory(config: EmulatorConfig) -> io::Result<Emulator> {
        Self::in_memory_on(config, SimClock::default()).await
    }

    /// [`in_memory`](Self::in_memory), on `clock` (a [`Pair`](crate::pair::Pair)'s).
    pub(crate) async fn in_memory_on(
        config: EmulatorConfig,
        clock: SimClock,
    ) -> io::Result<Emulator> {
        check_config(&config)?;
        let key = keys::off_thread(keys::first_key).await?;
        let shared = shared(config, IN_MEMORY_BASE_URL.to_owned(), key, clock);
        Ok(Emulator {
            inner: Arc::new(Inner {
                shared,
                local_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                shutdown: Mutex::new(None),
                task: Mutex::new(None),
            }),
        })
    }

    /// Answers `request` as the server would, without a socket: the emulator's router is
    /// called directly. Works for every emulator, started or [in memory](Self::in_memory).
    pub async fn handle(
        &self,
        request: http::Request<axum::body::Body>,
    ) -> http::Response<axum::body::Body> {
        use tower::ServiceExt as _;
        let router = routes::router(Arc::clone(&self.inner.shared));
        match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// Moves the emulator's clock ahead by `by` (whole seconds): token `iat`/`exp`,
    /// `auth_time`, and the lifetimes of sign-ins, codes and tokens read it. For tests.
    pub fn advance_clock(&self, by: Duration) {
        self.inner.shared.clock.advance(by);
    }

    /// The emulator's time (Unix seconds): the system clock, moved ahead by
    /// [`advance_clock`](Self::advance_clock); a `Pair`'s emulator's
    /// stands still until advanced.
    pub fn now(&self) -> u64 {
        u64::try_from(self.inner.shared.clock.secs()).unwrap_or(0)
    }

    /// The emulator's base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.shared.base_url.clone()
    }

    /// The issuer, [`base_url`](Emulator::base_url) + `/oidc` (discovery lives at issuer +
    /// `/.well-known/openid-configuration`, as at ID.me).
    pub fn issuer(&self) -> String {
        self.inner.shared.issuer.clone()
    }

    /// The registered client's id.
    pub fn client_id(&self) -> &str {
        &self.inner.shared.client_id
    }

    /// The registered client's secret.
    pub fn client_secret(&self) -> &str {
        &self.inner.shared.client_secret
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// Replaces the set of active faults.
    pub fn set_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.inner.shared.set_faults(faults);
    }

    /// Removes every fault: the emulator behaves again.
    pub fn clear_faults(&self) {
        self.inner.shared.set_faults([]);
    }

    /// Sets (or, with `None`, clears) the persona that signs in automatically without a sign-in page.
    pub fn set_auto_user(&self, user: Option<Persona>) {
        lock(&self.inner.shared.settings).auto_user = user;
    }

    /// Registers (or removes) the RP's public key: from now on ID tokens and userinfo are
    /// encrypted to it (`RSA-OAEP` + `A256CBC-HS512`), wrapping the signed JWT, as ID.me
    /// does once a client registered its certificate.
    pub fn set_rp_encryption_key(&self, key: Option<RpEncryptionKey>) {
        lock(&self.inner.shared.settings).rp_key = key;
    }

    /// Registers one more redirect URI (exact match), for example once the app under test knows its port.
    pub fn add_redirect_uri(&self, uri: &str) {
        if let Err(e) = check_redirect_uri(uri) {
            tracing::warn!(uri, error = %e, "registering a redirect URI the emulator considers invalid");
        }
        let mut settings = lock(&self.inner.shared.settings);
        if !settings.redirect_uris.iter().any(|r| r == uri) {
            settings.redirect_uris.push(uri.to_owned());
        }
    }

    /// Generates a new RSA key with a new `kid` that signs from now on; the JWKS then lists the new key and
    /// the one it replaced. Blocks the calling thread while the key is generated (a fraction of a second in
    /// an optimised build); a failure is logged and leaves the keys as they were.
    pub fn rotate_keys(&self) {
        match SigningKey::generate(None) {
            Ok(key) => lock(&self.inner.shared.keys).rotate(Arc::new(key)),
            Err(e) => {
                tracing::error!(error = %e, "idme-testkit could not generate a new signing key")
            }
        }
    }

    /// A signed OIDC Back-Channel Logout token (1.0 §2.4) saying that `persona` signed out:
    /// `iss`, `aud`, `iat`, `exp` (2 minutes), a fresh `jti`, `sub` and the back-channel
    /// logout event, signed like the id_tokens. `extra` (a JSON object) is merged over
    /// those claims, a `null` member removing one: `json!({"nonce": "n"})` or
    /// `json!({"sub": null, "sid": "…"})` make tokens an RP must refuse or treat specially.
    ///
    /// # Panics
    /// When signing fails (it does not with the emulator's keys).
    pub fn logout_token(&self, persona: Persona, extra: serde_json::Value) -> String {
        let shared = &self.inner.shared;
        let now = shared.clock.secs();
        let mut claims = serde_json::json!({
            "iss": shared.issuer,
            "aud": shared.client_id,
            "iat": now,
            "exp": now + 120,
            "jti": crate::util::random_hex(16),
            "sub": persona.sub(),
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        });
        if let (Some(c), serde_json::Value::Object(extra)) = (claims.as_object_mut(), extra) {
            for (k, v) in extra {
                if v.is_null() {
                    c.remove(&k);
                } else {
                    c.insert(k, v);
                }
            }
        }
        let token =
            keys::sign(&claims, &shared.signing_key(), true).expect("signing a logout token");
        shared.store().remember_secret(&token);
        token
    }

    /// Every secret value the emulator issued or was sent since it started (the latest
    /// 4,096): authorization codes, access and refresh tokens, ID tokens, signed userinfo
    /// and logout tokens (and their encrypted forms), and the RP's `state`, `nonce` and PKCE
    /// `code_verifier`. For tests that check none of them leaks into logs or `Debug`
    /// output; the client secret is [`client_secret`](Self::client_secret).
    pub fn issued_secrets(&self) -> Vec<String> {
        self.inner.shared.store().secrets()
    }

    /// The provider session id (`sid` claim of the id_tokens) of `persona`'s sign-ins at
    /// this emulator, for logout tokens naming a session rather than a user.
    pub fn provider_session_id(&self, persona: Persona) -> String {
        self.inner.shared.provider_sid(persona.sub())
    }

    /// Posts `logout_token` to an RP's back-channel logout URL as the OP does
    /// (`application/x-www-form-urlencoded`); returns the RP's status.
    ///
    /// # Errors
    /// The RP cannot be reached.
    pub async fn post_logout_token(&self, url: &str, logout_token: &str) -> io::Result<u16> {
        let res = reqwest::Client::new()
            .post(url)
            .form(&[("logout_token", logout_token)])
            .send()
            .await
            .map_err(io::Error::other)?;
        Ok(res.status().as_u16())
    }

    /// Tells the RP at `url` that `persona` signed out: posts a fresh
    /// [`logout_token`](Self::logout_token) for them; returns the RP's status.
    ///
    /// # Errors
    /// The RP cannot be reached.
    pub async fn backchannel_logout(&self, url: &str, persona: Persona) -> io::Result<u16> {
        let token = self.logout_token(persona, serde_json::Value::Null);
        self.post_logout_token(url, &token).await
    }

    /// What every clone shares (for the modules that extend the emulator).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// Endpoint hit counters since start.
    pub fn stats(&self) -> Stats {
        self.inner.shared.stats.snapshot()
    }

    /// Stops the server (for every clone), waiting up to a few seconds for in-flight requests.
    pub async fn shutdown(self) {
        if let Some(stop) = lock(&self.inner.shutdown).take() {
            let _ = stop.send(());
        }
        let task = lock(&self.inner.task).take();
        if let Some(mut task) = task
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

/// The base URL of an [in-memory](Emulator::in_memory) emulator (`.invalid`: never resolves).
const IN_MEMORY_BASE_URL: &str = "https://idme.emulator.invalid";

/// Refuses an empty client id or secret and invalid redirect URIs.
fn check_config(config: &EmulatorConfig) -> io::Result<()> {
    if config.client_id.is_empty() || config.client_secret.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "client_id and client_secret must not be empty",
        ));
    }
    for uri in &config.redirect_uris {
        check_redirect_uri(uri)?;
    }
    if config.redirect_uris.is_empty() {
        tracing::warn!(
            "idme-testkit started without redirect URIs: authorization requests fail until one is added"
        );
    }
    Ok(())
}

/// The state of an emulator at `base_url` signing with `key`.
fn shared(
    config: EmulatorConfig,
    base_url: String,
    key: Arc<SigningKey>,
    clock: SimClock,
) -> Arc<Shared> {
    let issuer = format!("{base_url}/oidc");
    Arc::new(Shared {
        client_id: config.client_id,
        client_secret: config.client_secret,
        public_client: config.public_client,
        base_url,
        issuer,
        advertise_iss: config.advertise_iss_parameter,
        end_session: config.end_session_endpoint,
        jwks_quirks: config.jwks_quirks,
        single_use: config.single_use_access_tokens,
        enabled_policies: config.enabled_policies.clone(),
        settings: Mutex::new(Settings {
            redirect_uris: config.redirect_uris,
            auto_user: config.auto_user,
            faults: Faults::default(),
            rp_key: config.rp_encryption_key.clone(),
        }),
        keys: Mutex::new(KeyRing::new(key)),
        events: Mutex::new(crate::events::Transmitter::new(
            config.events_receiver.clone(),
        )),
        events_issuer: crate::events::EVENTS_ISSUER.to_owned(),
        store: Mutex::new(Store::with_clock(clock.clone())),
        stats: Counters::default(),
        clock,
    })
}

/// The address to put in URLs: an unspecified bind address is reached over loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

fn check_redirect_uri(uri: &str) -> io::Result<()> {
    let url = url::Url::parse(uri).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("redirect URI {uri:?}: {e}"),
        )
    })?;
    if url.fragment().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("redirect URI {uri:?} has a fragment"),
        ));
    }
    Ok(())
}
