//! # idme-apps
//!
//! An OAuth authorization server for an [idme-rs](https://docs.rs/idme-core) application's
//! own devices and native apps: the application vouches for the person signed in with
//! ID.me to its devices (RFC 8628 device grant) and native or mobile apps (authorization
//! code with PKCE, RFC 8252), with tokens it issues itself (opaque, rotating, revocable)
//! that the adapters' `IdmeUser` accepts as `Authorization: Bearer` (RFC 6750).
//!
//! It sits on top of the engine as an [`Extension`](idme_core::extension::Extension): the
//! person's side is the normal web sign-in; the person approves every grant on a page of
//! the application; a grant carries what the person approved (the policies of its `scope`)
//! and ends with the web session that approved it.
//!
//! ```no_run
//! # fn demo(config: idme_core::IdmeConfig) -> Result<(), Box<dyn std::error::Error>> {
//! use idme_apps::{AppClient, AppClients, AppServer};
//!
//! let clients = AppClients::new(["living-room-tv"])
//!     .client(AppClient::new("desktop").display_name("Example Desktop").redirect_uri("http://127.0.0.1/callback"));
//! let idme = idme_core::Idme::builder(config).extension(AppServer::new(clients)).build()?;
//! # Ok(()) }
//! ```
//!
//! | module | what lives there |
//! |---|---|
//! | `config` | [`AppClients`], [`AppClient`]: registered clients, lifetimes, `IDME_APP_CLIENTS` |
//! | `server` | [`AppServer`]: the extension, its routes and state |
//! | `clients` | the redirect URI rules |
//! | `codes` | random codes, the user code's normal form, hashes |
//! | `grant` | what the store holds, sealed |
//! | `approvals` | which grants each web session approved (ended by its logout) |
//! | `grant_index` | a person's grants per client, capped |
//! | `tokens` | issuing, rotation, reuse detection, revocation |
//! | `device` | the device's endpoints: codes and polls |
//! | `device_page` | the person's side: typing the code, allowing or denying |
//! | `authorize` | the code + PKCE relay's start and the person's decision |
//! | `consent` | the relay's consent page, its CSRF token and same-origin check |
//! | `token_endpoint` | `/auth/token` and `/auth/device/token` |
//! | `revoke` | RFC 7009 |
//! | `bearer` | a bearer request's user |
//! | [`metrics`] | the metric names and label values, the `idme.app_token` span |
//! | `pages` | the person's HTML pages |
//! | `registry` | the server's state: clients, store, limits, locks |
//! | `throttle` | guessing and rate limits, single-use guard |
//! | `limits` | the bounded counters behind them |
//! | `oauth` | form parameters and OAuth JSON answers |
#![forbid(unsafe_code)]

/// The README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod approvals;
mod authorize;
mod bearer;
mod bearer_cache;
mod clients;
mod codes;
mod config;
mod consent;
mod device;
mod device_page;
mod grant;
mod grant_index;
mod limits;
pub mod metrics;
mod oauth;
mod pages;
mod params;
mod polls;
mod registry;
mod revoke;
mod server;
mod throttle;
mod token_endpoint;
mod tokens;

pub use config::{AppClient, AppClients, ConfigError};
pub use server::AppServer;

use idme_core::verification::{Policy, Requirement};
use server::{Ctx, Inner};

pub(crate) use registry::Apps;

/// The policies a client asks for in `scope` (space-separated; `openid` ignored), as
/// ID.me handles; `Err` names the first unknown one.
pub(crate) fn parse_scope(scope: Option<&str>) -> Result<Vec<String>, ()> {
    let mut out: Vec<String> = Vec::new();
    for name in scope.unwrap_or_default().split_whitespace() {
        if name == "openid" {
            continue;
        }
        let policy = Policy::known(name).ok_or(())?;
        let handle = policy.handle().to_owned();
        if !out.contains(&handle) {
            out.push(handle);
        }
    }
    Ok(out)
}

/// The first of `scope`'s policies that `user` has not verified.
pub(crate) fn unmet_policy(user: &idme_core::IdmeUser, scope: &[String]) -> Option<Policy> {
    scope.iter().map(|h| Policy::parse(h)).find(|p| {
        let requirement = match p {
            Policy::Ial2 | Policy::Loa3 => Requirement::Ial2,
            other => match other.group() {
                Some(g) => Requirement::Group(g),
                None => return false,
            },
        };
        !user.meets(&requirement)
    })
}

/// The person's decision as their browser posts it (`POST /auth/authorize`, `POST
/// /auth/device`): the form, their cookies, and the same-origin signals.
pub(crate) struct Decide<'a> {
    pub(crate) body: &'a [u8],
    pub(crate) cookies: &'a idme_core::RequestCookies,
    pub(crate) origin: Option<&'a str>,
    pub(crate) sec_fetch_site: Option<&'a str>,
}

/// The person signed in on the web (and the cookies authentication produced), or the
/// answer for a browser that is not: a `303` to sign in coming back to `return_to`, the
/// error page when the session store is down.
pub(crate) async fn person(
    inner: &Inner<'_>,
    cookies: &idme_core::RequestCookies,
    return_to: &str,
) -> Result<(idme_core::IdmeUser, Vec<idme_core::SetCookie>), idme_core::Reply> {
    match inner.host.authenticate(cookies).await {
        Ok(idme_core::Authenticated {
            user, set_cookies, ..
        }) => Ok((user, set_cookies)),
        Err(denied) => Err(inner
            .host
            .unauthenticated(denied, Some("text/html"), return_to)),
    }
}

/// The query parameter marking a page the person came back to from ID.me's verification.
const VERIFICATION_TRIED: &str = "verification_tried";

/// Where a person who lacks `policy` goes from the page `path?query`: ID.me's verification
/// of it, coming back to that page marked as tried; `None` once they are back from it and
/// still lack it. ID.me can sign a person in without verifying them (they gave up, or
/// their verification is under review), and sending them round again would be a redirect
/// loop: the page says so instead.
pub(crate) fn verify_once(
    inner: &Inner<'_>,
    policy: &Policy,
    path: &str,
    query: Option<&str>,
) -> Option<String> {
    let query = query.filter(|q| !q.is_empty());
    let tried = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, _)| k == VERIFICATION_TRIED);
    if tried {
        return None;
    }
    let back = match query {
        Some(q) => format!("{path}?{q}&{VERIFICATION_TRIED}=1"),
        None => format!("{path}?{VERIFICATION_TRIED}=1"),
    };
    Some(inner.host.verify_url_for(policy, &back))
}

/// Whether the login can bring the person back to `path_and_query` (its `return_to`
/// limit), with room for the mark [`verify_once`] may add.
pub(crate) fn can_come_back_to(path_and_query: &str) -> bool {
    path_and_query.len() + VERIFICATION_TRIED.len() + 3 <= idme_core::flow::MAX_RETURN_TO
}

/// The application's origin (that of the redirect URI), e.g. `https://app.example`.
pub(crate) fn origin(config: &Ctx) -> String {
    config.redirect_uri.origin().ascii_serialization()
}

/// `path`, with `?query` when there is one.
pub(crate) fn with_query(path: &str, query: Option<&str>) -> String {
    match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    }
}
