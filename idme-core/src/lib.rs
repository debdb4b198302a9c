//! # idme-core
//!
//! The framework-agnostic engine behind idme-rs: sign people in with
//! [ID.me](https://id.me) (OpenID Connect) from any Rust web service, and know on every
//! request who is signed in and what ID.me verified about them (military, student, IAL2, …).
//!
//! ## Getting started
//!
//! 1. **Add your framework's adapter**, `idme-axum`, `idme-actix` or `idme-rocket`, and no
//!    other idme crate: each re-exports this one (`idme_axum::idme_core`, …).
//! 2. **Make the engine** from the `IDME_*` environment (client id and secret, redirect
//!    URI, cookie keys, …; the table is in the
//!    [workspace README](https://github.com/idme-rs/idme-rs#configuration)).
//!    [`build`](IdmeBuilder::build) refuses an impossible combination with a message naming
//!    what to change; make one [`Idme`] per application (cheap to clone):
//!
//!    ```no_run
//!    # fn main() -> Result<(), Box<dyn std::error::Error>> {
//!    use idme_core::{Idme, IdmeBuilder};
//!
//!    let idme = Idme::new(IdmeBuilder::from_env()?.build()?);
//!    # Ok(()) }
//!    ```
//!
//! 3. **Mount the routes** with the adapter (`idme_axum::routes(&idme)` and
//!    `IdmeLayer::new(idme)`, `idme_actix::configure(&idme)` and `IdmeMiddleware`, Rocket's
//!    `IdmeFairing`): `GET /auth/login`, `GET` and `POST /auth/callback` (the redirect URI's
//!    path), `POST /auth/logout`, `POST /auth/backchannel-logout`, `POST /auth/events` (the
//!    [security-event](events) receiver, when configured), and the routes of any
//!    [extension] registered on the engine (such as `idme-apps`' device and native-app
//!    endpoints).
//! 4. **Take the adapter's `IdmeUser`** in the handlers that need a signed-in user: it
//!    dereferences to this crate's [`IdmeUser`] (`sub`, claims, [`Verification`]). Browsers
//!    without a session are sent to sign in and API clients get `401`; `Option<IdmeUser>`
//!    is `None` for anonymous visitors; `Verified<require::Veteran>` admits only users ID.me
//!    verified (others get `403` with an offer to verify):
//!
//!    ```
//!    # idme_core::adapter_types! { pub struct IdmeUser; pub struct Verified; }
//!    // `idme_axum::IdmeUser`, `idme_actix::IdmeUser` or `idme_rocket::IdmeUser`.
//!    async fn account(user: IdmeUser) -> String {
//!        format!("Hello {}", user.sub())
//!    }
//!    ```
//!
//! Each adapter's `examples/quickstart.rs` is all of this as one program, and the workspace
//! README shows it:
//! [axum](https://github.com/idme-rs/idme-rs/blob/main/idme-axum/examples/quickstart.rs),
//! [actix-web](https://github.com/idme-rs/idme-rs/blob/main/idme-actix/examples/quickstart.rs),
//! [Rocket](https://github.com/idme-rs/idme-rs/blob/main/idme-rocket/examples/quickstart.rs).
//! The rest of this page is for using the engine without an adapter, or writing one; how
//! the engine is built and the rules it keeps are in
//! [ARCHITECTURE.md](https://github.com/idme-rs/idme-rs/blob/main/ARCHITECTURE.md).
//!
//! ## What an adapter does
//!
//! An adapter feeds the engine plain request values and sends back the [`Reply`] it
//! returns; this is also how to use the engine without one. The engine answers the
//! sign-in routes ([`Idme::login`], [`Idme::callback`], [`Idme::logout`],
//! [`Idme::backchannel_logout`], or [`adapter::Route::all`] for every route) with a
//! [`Reply`], and tells who is signed in on every other request ([`Idme::authenticate`],
//! most easily through [`adapter::RequestAuth`], which also answers a request without a
//! user):
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use idme_core::{CookieKeys, Environment, Idme, IdmeBuilder, RequestCookies};
//!
//! let config = IdmeBuilder::new()
//!     .environment(Environment::Sandbox)
//!     .client_id("your-client-id")
//!     .client_secret("your-client-secret")
//!     .redirect_uri("https://app.example/auth/callback")
//!     .cookie_keys(CookieKeys::from_base64_list(&std::env::var("IDME_COOKIE_KEYS")?)?)
//!     .build()?;
//! let idme = Idme::new(config);
//! idme.discover().await?; // fail fast on a wrong issuer
//!
//! // GET /auth/login?return_to=/account: a 303 to ID.me with the pending-login cookie.
//! let reply = idme.login(Some("return_to=/account")).await;
//! assert_eq!(reply.status, 303);
//!
//! // Any request that needs a user (what an adapter's `IdmeUser` extractor does).
//! let auth = idme_core::adapter::RequestAuth::new();
//! let request = idme_core::adapter::GuardRequest {
//!     idme: Some(&idme),
//!     setup: "Idme::new(config)",
//!     accept: Some("text/html"),
//!     path_and_query: "/account",
//!     authorization: None,
//!     method: "GET",
//!     provenance: Default::default(),
//!     sec_fetch_mode: None,
//! };
//! let cookies = || RequestCookies::from_header_values(["idme_session=…"]);
//! match auth.user(&request, cookies).await {
//!     Ok(user) => println!("hello {}", user.sub()),
//!     // A 303 to sign in for browsers, `401` JSON for API clients, `503` if the store is down.
//!     Err(rejection) => drop(rejection.reply),
//! }
//! // The cookies authentication produced (a re-sealed session, a dead one's deletion).
//! let _set_cookies = auth.response_effects().set_cookies;
//! # Ok(()) }
//! ```
//!
//! ## Modules
//!
//! | module | what lives there |
//! |---|---|
//! | [`config`] | [`IdmeBuilder`], [`IdmeConfig`], [`Environment`], [`ResponseType`], [`ResponseMode`], [`Prompt`]; the environment contract |
//! | [`danger`] | settings unsafe in production, behind [`IdmeBuilder::dangerous`] (`config::danger`) |
//! | [`flow`] | [`LoginOptions`], [`CallbackInput`]; start → callback → token → userinfo |
//! | `provider` | discovery and JWKS, cached, with a single-flight refetch on unknown `kid` |
//! | `validate` | JWS signatures, ID token claims, `at_hash`/`c_hash`, userinfo bodies |
//! | [`http_client`] | the [`HttpClient`](http_client::HttpClient) trait every call to the provider goes through |
//! | [`session`] | sessions: sealed cookie (chunked) or a [`SessionStore`]; refresh, timeouts, logout |
//! | [`store`] | the session store traits ([`SessionStore`], [`SessionIndex`], [`LockingStore`], [`SharedStore`]) and [`MemoryStore`] |
//! | [`user`] | [`IdmeUser`]: the signed-in user and their claims; [`Authenticated`], [`Denied`] |
//! | [`require`] | verification requirements as types, for typed guards (`Verified<Veteran>`) |
//! | [`verification`] | [`Policy`], [`Group`], [`Verification`] from `attributes.json` |
//! | [`cookies`] | sealed cookies, key rotation, [`SetCookie`], [`RequestCookies`] |
//! | [`reply`] | [`Reply`]: what an adapter sends back |
//! | [`secret`] | redacting newtypes for tokens and secrets |
//! | [`button`] | the "Verify with ID.me" button, as HTML |
//! | [`error`] | [`Error`]: status and public message decided once |
//! | [`metrics`] | the metric names and label values (the `metrics` facade), and the span names |
//! | [`manual::security`] | which check stops which attack |
//! | [`adapter`] | the per-request glue every framework adapter wraps: [`adapter::RequestAuth`] |
//! | [`extension`] | the seam for roles built on the engine (`idme-apps`): routes, bearer tokens, the end of a person's sessions; [`extension::Host`], what they see of the engine |
//! | [`html`] | escaping and the page frame, for extensions' pages |
//!
//! ## Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `reqwest` | yes | [`Idme::new`] with a reqwest (rustls) HTTP client; without it, bring an [`HttpClient`](http_client::HttpClient) to [`Idme::with_http_client`] |
//! | `encryption` | no | decrypt JWE ID tokens and userinfo ([`DecryptionKeys`], RSA-OAEP + A256CBC-HS512 with josekit, which needs OpenSSL) |
//! | `test-util` | no | hooks into the engine's state for tests and load tests; never in production |
//!
//! The environment variables, the flows, sessions, running several instances and the
//! security notes are described in the
//! [workspace README](https://github.com/idme-rs/idme-rs#readme); how the engine is built
//! and the rules it keeps, in
//! [ARCHITECTURE.md](https://github.com/idme-rs/idme-rs/blob/main/ARCHITECTURE.md).
#![forbid(unsafe_code)]
#![forbid(unused_must_use)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzzing;
pub mod adapter;
pub mod button;
/// Renamed [`user`]: this module only re-exports it, for one release.
#[deprecated(note = "renamed `idme_core::user` (or use `idme_core::IdmeUser`)")]
pub mod claims {
    pub use crate::user::{IdmeUser, UserParts};
}
mod clock;
pub mod config;
mod config_error;
pub mod cookies;
pub mod cross_site;
pub use config::danger;
mod engine;
pub mod error;
pub mod events;
pub mod extension;
pub mod flow;
pub mod html;
pub mod http_client;
mod jwe;
mod logout;
pub mod manual;
pub mod metrics;
pub mod native;
mod pages;
mod parse_error;
mod provider;
pub mod reply;
mod request;
pub mod require;
pub mod secret;
pub mod session;
mod shared_error;
pub mod store;
#[cfg(feature = "test-util")]
pub mod test_util;
#[cfg(test)]
mod tests;
mod trace;
pub mod user;
mod validate;
pub mod verification;

/// The attribute for implementing [`SessionStore`] and [`HttpClient`](http_client::HttpClient)
/// with plain `async fn`s (re-exported from the `async-trait` crate).
pub use async_trait::async_trait;
pub use clock::Clock;
pub use config::{
    ConfigError, Environment, IdmeBuilder, IdmeConfig, TokenAuthMethod, UserDataSource,
};
pub use cookies::{CookieKeys, RequestCookies, SameSite, SetCookie};
pub use engine::{EngineBuilder, Idme};
pub use error::{Error, Misuse, Unauthenticated};
pub use flow::{CallbackInput, CallbackMethod, LoginOptions, Prompt, ResponseMode, ResponseType};
pub use jwe::DecryptionKeys;
pub use parse_error::ParseError;
pub use reply::Reply;
pub use shared_error::SharedError;
pub use store::{LockingStore, MemoryStore, SessionIndex, SessionStore, SharedStore};
pub use user::{Authenticated, Denied, IdmeUser, UserParts};
pub use verification::{Group, Policy, Requirement, Verification};
