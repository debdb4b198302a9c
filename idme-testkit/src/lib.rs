//! An honest in-process ID.me emulator: a real OpenID Connect provider on a loopback port, for tests and for
//! running example apps offline.
//!
//! It serves ID.me's endpoints at ID.me's paths (discovery and JWKS under `/oidc`, `/oauth/authorize`,
//! `/oauth/token`, `/api/public/v3/userinfo`, `/api/public/v3/attributes.json`, `/oauth/logout`), signs
//! id_tokens and userinfo JWTs with real RSA keys (RS256), enforces exact redirect URIs, single-use codes,
//! PKCE S256 and client authentication, and answers userinfo in ID.me's string-wrapped JWT shape.
//! [`Fault`]s make it misbehave on purpose, to test a relying party's defences.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use idme_testkit::{Emulator, EmulatorConfig, Fault, Persona};
//! let idme = Emulator::start(EmulatorConfig {
//!     redirect_uris: vec!["http://127.0.0.1:3000/auth/callback".into()],
//!     auto_user: Some(Persona::Veteran),
//!     ..Default::default()
//! })
//! .await?;
//! // Point the relying party at idme.issuer(), idme.client_id(), idme.client_secret() ...
//! idme.set_faults([Fault::WrongNonce]);
//! // ... and check that it refuses the sign-in.
//! # Ok(()) }
//! ```
//!
//! For testing an application's handlers, the `test-helpers` feature adds `TestIdme` (in
//! the `app` module): the application's engine against an in-memory emulator, and a
//! signed-in browser's `Cookie` header (or an app client's bearer token) for a persona, in
//! one call. It builds only with debug assertions, so it cannot reach a release binary by
//! accident; the `app` module's documentation says how that is enforced.
#![forbid(unsafe_code)]

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod browser;
mod config;
pub mod contract;
mod emulator;
mod encryption;
mod events;
mod faults;
mod keys;
mod oauth;
mod pages;
#[cfg(feature = "pair")]
pub mod pair;
mod persona;
// Unix only: it runs postgres as another user.
#[cfg(unix)]
pub mod postgres_server;
pub mod redis_server;
pub mod redis_topologies;
mod routes;
pub mod set_transmitter;
mod state;
mod tokens;
mod util;

#[cfg(feature = "test-helpers")]
pub mod app;
#[cfg(feature = "test-helpers")]
pub use app::{SignedIn, TestIdme};

pub use config::EmulatorConfig;
pub use emulator::Emulator;
pub use encryption::RpEncryptionKey;
pub use events::{EVENTS_ISSUER, EVENTS_JWKS_PATH, EventsReceiver, RETRIES, SentEvent, risc};
pub use faults::{Fault, HttpEndpoint, HttpFailure};
pub use persona::Persona;
#[cfg(unix)]
pub use postgres_server::PostgresServer;
pub use redis_server::RedisServer;
pub use redis_topologies::{RedisCluster, RedisSentinel};
pub use state::Stats;
