//! What the three example apps share, so they stay identical (the contract is
//! `examples/README.md`): the environment contract
//! (`BIND_ADDR`, `IDME_*`, where sessions and app grants live: [`stores`], `METRICS_ADDR`), the offline mode that starts the idme-testkit emulator when no
//! `IDME_CLIENT_ID` is set (refused beside any production setting, see [`emulator_mode`]),
//! and the pages they render. Framework code stays in each example.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use idme_core::{Environment, Idme, IdmeBuilder};
use idme_testkit::{Emulator, EmulatorConfig};

pub mod emulator_mode;
mod offline_state;
mod pages;
pub mod prometheus;
pub mod spa;
pub mod stores;

pub use emulator_mode::{EMULATOR_NOTICE, ProductionSetting, refuse_production_settings};
pub use pages::{RECENT_MAX_AGE, home_page, me_body, recent_json, verified_json};

/// A configured engine, the address to listen on, and the emulator when offline.
#[derive(Debug)]
pub struct ExampleApp {
    /// The engine.
    pub idme: Idme,
    /// Where to listen (`BIND_ADDR`, default `127.0.0.1:3000`).
    pub bind: SocketAddr,
    /// The in-process emulator, when no `IDME_CLIENT_ID` is configured. Keep it alive.
    pub emulator: Option<Emulator>,
    /// Where `GET /metrics` is served (`METRICS_ADDR`), when set: a listener of its own.
    pub metrics: Option<SocketAddr>,
}

/// The error of a failed start: the message says what to change.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// Sets up logging (`RUST_LOG`, default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// Reads the environment contract and builds the engine; with no `IDME_CLIENT_ID`, starts
/// the emulator in-process and points the engine at it, unless a production setting is
/// present ([`refuse_production_settings`]): then it fails, naming the variable.
pub async fn bootstrap(name: &str) -> Result<ExampleApp, StartError> {
    init_tracing();
    let env = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    let emulator_mode = env("IDME_CLIENT_ID").is_none();
    if emulator_mode {
        // Before anything else reads the settings, so the refusal is the first message.
        refuse_production_settings(env).map_err(|refused| refused.to_string())?;
    }
    let bind: SocketAddr = std::env::var("BIND_ADDR")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "127.0.0.1:3000".into())
        .parse()
        .map_err(|e| format!("BIND_ADDR must be host:port, e.g. 127.0.0.1:3000 ({e})"))?;
    let metrics_addr = prometheus::metrics_addr(env("METRICS_ADDR").as_deref(), bind)?;
    let mut builder = IdmeBuilder::from_env()?;
    // The redirect URI defaults to this app's own callback on a loopback address.
    let host = if bind.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], bind.port()))
    } else {
        bind
    };
    let redirect = redirect_uri(env, host);
    builder = builder.redirect_uri(redirect.clone());

    let mut emulator = None;
    if emulator_mode {
        // The last run's cookie key, emulator port and client id, so that sign-ins and
        // device grants survive a restart.
        let dir = stores::data_dir(name, env);
        let defaults = EmulatorConfig::default();
        let mut state = offline_state::OfflineState::load(&dir, &defaults.client_id);
        // ID.me's security events, offline: the emulator delivers them to this app, which
        // checks them with the emulator's events keys.
        let events = idme_testkit::EventsReceiver {
            url: format!("http://{host}/auth/events"),
            audience: EXAMPLE_EVENTS_AUDIENCE.to_owned(),
        };
        let config = EmulatorConfig {
            redirect_uris: vec![redirect],
            auto_user: EmulatorConfig::from_env_user(),
            events_receiver: Some(events),
            client_id: state.client_id.clone(),
            bind: SocketAddr::from(([127, 0, 0, 1], state.port)),
            ..defaults
        };
        let emu = match Emulator::start(config.clone()).await {
            Ok(emu) => emu,
            // The last port is taken: any other (this run's sign-ins start afresh).
            Err(_) if state.port != 0 => {
                let any = SocketAddr::from(([127, 0, 0, 1], 0));
                Emulator::start(EmulatorConfig {
                    bind: any,
                    ..config
                })
                .await?
            }
            Err(e) => return Err(e.into()),
        };
        state.port = emu.local_addr().port();
        match state.save(&dir) {
            Ok(path) => tracing::info!(
                "offline mode: the development cookie key and the emulator's port are kept in {}",
                path.display()
            ),
            Err(e) => tracing::warn!(
                "offline mode: {e}; sign-ins and device grants will not survive a restart"
            ),
        }
        builder = builder.cookie_keys(state.cookie_keys()?);
        tracing::warn!(
            issuer = %emu.issuer(),
            "{name}: IDME_CLIENT_ID is not set, so this app signs in against the built-in ID.me emulator (idme-testkit). Set IDME_CLIENT_ID, IDME_CLIENT_SECRET and IDME_ISSUER to use ID.me."
        );
        builder = builder
            .environment(Environment::Custom(emu.issuer()))
            .client_id(emu.client_id())
            .client_secret(emu.client_secret())
            .security_events(EXAMPLE_EVENTS_AUDIENCE, emu.events_jwks_url())
            .security_events_issuer(emu.events_issuer())
            .page_notice(EMULATOR_NOTICE);
        tracing::info!(
            "{name}: send this app ID.me's security events (\"account disabled\", …) from {}/testkit/events",
            emu.base_url()
        );
        emulator = Some(emu);
    }
    // App clients (devices, native apps): `IDME_APP_CLIENTS`, or the example's own client,
    // which may also sign in through a loopback redirect (`/callback`, any port).
    let clients = idme_apps::AppClients::from_env()
        .map_err(|e| format!("IDME_APP_CLIENTS: {e}"))?
        .unwrap_or_else(|| {
            let client = idme_apps::AppClient::new(EXAMPLE_APP_CLIENT)
                .display_name(EXAMPLE_APP_CLIENT_NAME)
                .redirect_uri(EXAMPLE_APP_CLIENT_REDIRECT);
            idme_apps::AppClients::new(Vec::<String>::new()).client(client)
        });
    let apps = idme_apps::AppServer::new(clients);
    let (builder, apps) = stores::with_stores(builder, apps, name).await?;
    let idme = Idme::builder(builder.build()?).extension(apps).build()?;
    // Before discovery, so its calls to the provider are counted too.
    let metrics = match metrics_addr {
        Some(addr) => Some(prometheus::serve(addr).await?),
        None => None,
    };
    if let Err(e) = idme.discover().await {
        // Not fatal: the provider may come up later; sign-in will retry discovery.
        tracing::warn!(error = %e, "the provider could not be reached at startup");
    }
    tracing::info!("{name} listening on http://{host}");
    Ok(ExampleApp {
        idme,
        bind,
        emulator,
        metrics,
    })
}

/// The audience the examples register for security events in emulator mode.
pub const EXAMPLE_EVENTS_AUDIENCE: &str = "idme-example-events";

/// The app client every example registers when `IDME_APP_CLIENTS` is not set.
pub const EXAMPLE_APP_CLIENT: &str = "idme-example-device";
/// The display name of [`EXAMPLE_APP_CLIENT`], shown on the consent and device pages.
pub const EXAMPLE_APP_CLIENT_NAME: &str = "idme example device";
/// The loopback redirect URI [`EXAMPLE_APP_CLIENT`] registers: any port, this path.
pub const EXAMPLE_APP_CLIENT_REDIRECT: &str = "http://127.0.0.1/callback";

/// `IDME_REDIRECT_URI`, or this app's own callback at `host`.
fn redirect_uri(env: impl Fn(&str) -> Option<String>, host: SocketAddr) -> String {
    env("IDME_REDIRECT_URI")
        .map(|uri| uri.trim().to_owned())
        .unwrap_or_else(|| format!("http://{host}/auth/callback"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redirect_uri_defaults_to_the_apps_own_callback() {
        let host = SocketAddr::from(([127, 0, 0, 1], 3000));
        assert_eq!(
            redirect_uri(|_| None, host),
            "http://127.0.0.1:3000/auth/callback"
        );
        let set =
            |var: &str| (var == "IDME_REDIRECT_URI").then(|| " https://app.example/cb ".to_owned());
        assert_eq!(redirect_uri(set, host), "https://app.example/cb");
    }
}
