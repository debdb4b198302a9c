//! # idme-core
//!
//! The framework-agnostic engine behind idme-rs: sign people in with
//! [ID.me](https://id.me) (OpenID Connect) from any Rust web service. Adapters
//! (`idme-axum`, …) feed it plain request values and send back the [`Reply`] it returns.
//!
//! | module | what lives there |
//! |---|---|
//! | [`config`] | [`IdmeBuilder`], [`IdmeConfig`], [`Environment`]; the environment contract |
//! | [`flow`] | response types and modes; start → callback → token → userinfo |
//! | `provider` | discovery and JWKS, cached, with a single-flight refetch on unknown `kid` |
//! | `validate` | JWS signatures, ID token claims, `at_hash`/`c_hash`, userinfo bodies |
//! | [`session`] | sessions: sealed cookie (chunked) or a [`SessionStore`]; refresh, timeouts, logout |
//! | [`claims`] | [`IdmeUser`] |
//! | [`require`] | verification requirements as types, for typed guards |
//! | [`verification`] | [`Policy`], [`Group`], [`Verification`] from `attributes.json` |
//! | [`cookies`] | sealed cookies, key rotation, [`SetCookie`], [`RequestCookies`] |
//! | [`manual::security`] | which check stops which attack |
//! | [`error`] | [`Error`]: status and public message decided once |
//! | [`adapter`] | the per-request glue every framework adapter wraps: [`adapter::RequestAuth`] |
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `reqwest` | yes | [`Idme::new`] with a reqwest (rustls) HTTP client |
//! | `encryption` | no | decrypt JWE ID tokens and userinfo ([`DecryptionKeys`], josekit/OpenSSL) |
//! | `test-util` | no | hooks into the engine's state for tests and load tests; never in production |
//!
//! ```no_run
//! # async fn demo() -> Result<(), idme_core::Error> {
//! use idme_core::{Idme, IdmeBuilder};
//! let idme = Idme::new(IdmeBuilder::from_env()?.build()?);
//! idme.discover().await?; // fail fast on a wrong issuer
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![forbid(unused_must_use)]

#[doc(hidden)]
pub mod __fuzzing;
pub mod adapter;
pub mod button;
pub mod claims;
pub mod config;
pub mod cookies;
pub mod danger;
mod engine;
pub mod error;
pub mod flow;
pub mod http_client;
mod logout;
pub mod manual;
mod pages;
mod provider;
pub mod reply;
pub mod require;
pub mod secret;
pub mod session;
#[cfg(feature = "test-util")]
pub mod test_util;
mod validate;
pub mod verification;

pub use claims::IdmeUser;
pub use config::{Environment, IdmeBuilder, IdmeConfig, TokenAuthMethod, UserDataSource};
pub use cookies::{CookieKeys, RequestCookies, SameSite, SetCookie};
pub use engine::Idme;
pub use error::{Error, Unauthenticated};
pub use flow::{CallbackInput, CallbackMethod, LoginOptions, Prompt, ResponseMode, ResponseType};
pub use provider::ProviderMetadata;
pub use reply::Reply;
pub use session::store::{MemoryStore, SessionStore};
pub use session::{Authenticated, Denied};
pub use validate::jwe::DecryptionKeys;
pub use verification::{Group, Policy, Requirement, Verification};
