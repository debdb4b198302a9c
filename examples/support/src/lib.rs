//! What the three example apps share, so they stay identical: the environment contract
//! (`BIND_ADDR`, `IDME_*`, `IDME_SESSION_STORE=cookie|redis://host:port/db`), the offline mode that starts the idme-testkit emulator when no
//! `IDME_CLIENT_ID` is set, and the pages they render. Framework code stays in each example.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use idme_core::{Environment, Group, Idme, IdmeBuilder, IdmeUser, Requirement};
use idme_testkit::{Emulator, EmulatorConfig};

/// A configured engine, the address to listen on, and the emulator when offline.
#[derive(Debug)]
pub struct ExampleApp {
    /// The engine.
    pub idme: Idme,
    /// Where to listen (`BIND_ADDR`, default `127.0.0.1:3000`).
    pub bind: SocketAddr,
    /// The in-process emulator, when no `IDME_CLIENT_ID` is configured. Keep it alive.
    pub emulator: Option<Emulator>,
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
/// the emulator in-process and points the engine at it.
pub async fn bootstrap(name: &str) -> Result<ExampleApp, StartError> {
    init_tracing();
    let bind: SocketAddr = std::env::var("BIND_ADDR")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "127.0.0.1:3000".into())
        .parse()
        .map_err(|e| format!("BIND_ADDR must be host:port, e.g. 127.0.0.1:3000 ({e})"))?;
    let mut builder = IdmeBuilder::from_env()?;
    // The redirect URI defaults to this app's own callback on a loopback address.
    let host = if bind.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], bind.port()))
    } else {
        bind
    };
    builder = builder.default_redirect_uri(format!("http://{host}/auth/callback"));

    let mut emulator = None;
    if !builder.has_client_id() {
        let redirect = builder.redirect_uri_value().unwrap_or_default().to_owned();
        let emu = Emulator::start(EmulatorConfig {
            redirect_uris: vec![redirect],
            auto_user: EmulatorConfig::from_env_user(),
            ..EmulatorConfig::default()
        })
        .await?;
        tracing::warn!(
            issuer = %emu.issuer(),
            "{name}: IDME_CLIENT_ID is not set, so this app signs in against the built-in ID.me emulator (idme-testkit). Set IDME_CLIENT_ID, IDME_CLIENT_SECRET and IDME_ISSUER to use ID.me."
        );
        builder = builder
            .environment(Environment::Custom(emu.issuer()))
            .client_id(emu.client_id())
            .client_secret(emu.client_secret());
        emulator = Some(emu);
    }
    builder = with_session_store(builder).await?;
    let idme = Idme::new(builder.build()?);
    if let Err(e) = idme.discover().await {
        // Not fatal: the provider may come up later; sign-in will retry discovery.
        tracing::warn!(error = %e, "the provider could not be reached at startup");
    }
    tracing::info!("{name} listening on http://{host}");
    Ok(ExampleApp {
        idme,
        bind,
        emulator,
    })
}

/// `IDME_SESSION_STORE`: `cookie` (default: the session sealed in the cookie) or a
/// `redis://host:port/db` URL (sessions in Redis, shared by every instance using it).
async fn with_session_store(builder: IdmeBuilder) -> Result<IdmeBuilder, StartError> {
    let setting = std::env::var("IDME_SESSION_STORE").unwrap_or_default();
    let setting = setting.trim();
    if setting.is_empty() || setting == "cookie" {
        return Ok(builder);
    }
    if !(setting.starts_with("redis://") || setting.starts_with("rediss://")) {
        return Err("IDME_SESSION_STORE must be `cookie` or a redis://host:port/db URL".into());
    }
    // The URL may hold a password: never logged.
    let store = idme_session_redis::RedisStore::connect(setting)
        .await
        .map_err(|e| format!("IDME_SESSION_STORE: cannot connect to Redis ({e})"))?;
    tracing::info!("sessions are kept in Redis (IDME_SESSION_STORE)");
    Ok(builder.session_store(store))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The public home page: a sign-in link, or who is signed in and a sign-out button.
pub fn home_page(idme: &Idme, user: Option<&IdmeUser>) -> String {
    let paths = idme.config().paths();
    let body = match user {
        Some(u) => format!(
            "<p>Signed in as <strong>{name}</strong> (<code>{sub}</code>).</p>\
             <p><a href=\"/me\">Your claims (JSON)</a> · <a href=\"/verified/military\">Military page</a> · \
             <a href=\"/verified/veteran\">Veterans page</a></p>{verify}\
             <form method=\"post\" action=\"{logout}\"><button type=\"submit\">Sign out</button></form>",
            name = escape(u.given_name().or(u.email()).unwrap_or("ID.me member")),
            sub = escape(u.sub()),
            logout = escape(&paths.logout),
            verify = if u.is_verified(Group::Military) {
                String::new()
            } else {
                format!(
                    "<p>{}</p>",
                    idme_core::button::verify_button(
                        &idme.verify_url(Group::Military, "/verified/military"),
                        Some(Group::Military)
                    )
                )
            },
        ),
        None => format!(
            "<p>You are not signed in.</p>\
             <p><a id=\"sign-in\" href=\"{login}?return_to=/me\">Sign in with ID.me</a></p>",
            login = escape(&paths.login),
        ),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>idme-rs example</title></head>\
         <body><h1>idme-rs example</h1>{body}</body></html>"
    )
}

/// The body of `GET /verified/…` for a user who meets `requirement`.
pub fn verified_json(user: &IdmeUser, requirement: &Requirement) -> serde_json::Value {
    let status = user
        .verification()
        .zip(requirement.group())
        .and_then(|(v, g)| v.status(g));
    serde_json::json!({
        "sub": user.sub(),
        "group": requirement.group().map(|g| g.as_str()),
        "verified": true,
        "subgroups": status.map(|s| s.subgroups.clone()).unwrap_or_default(),
    })
}

/// The body of `GET /me`: the user with a top-level `sub`.
pub fn me_json(user: &IdmeUser) -> serde_json::Value {
    user.to_json()
}
