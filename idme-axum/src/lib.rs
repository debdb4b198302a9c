//! # idme-axum
//!
//! Sign in with ID.me in [axum](https://docs.rs/axum) 0.8. A thin adapter: every flow
//! decision is made by [`idme_core`]; this crate converts axum requests into the engine's
//! inputs and the engine's [`Reply`] into axum responses.
//!
//! The smallest app, `examples/quickstart.rs` (configured by the `IDME_*` variables):
//!
#![doc = concat!("```no_run\n", include_str!("../examples/quickstart.rs"), "```")]
//!
//! | item | what it does |
//! |---|---|
//! | [`routes`] | `GET` login, `GET`+`POST` callback, `POST` logout, `POST` back-channel logout, at the configured paths, and the routes of the [extensions](idme_core::extension) registered on the engine (`idme-apps`' device, authorize, token and revoke routes) |
//! | [`IdmeLayer`] | makes the engine available to the extractors and sets the cookies they produce (add it outermost; required) |
//! | [`IdmeUser`] | extractor: the signed-in user; browsers without a session are sent to sign in, API clients get `401` JSON |
//! | `Option<IdmeUser>` | `None` when nobody is signed in; a session store that is down is still `503` |
//! | [`RequireUserLayer`] | protects every route of a router |
//! | [`Verified<R>`](Verified) | extractor: a user ID.me verified, e.g. `Verified<require::Veteran>`; others get `403` with an offer to verify |
//! | [`Fresh<N>`](Fresh) | extractor: a user who signed in at most `N` seconds ago, e.g. `Fresh<300>`; browsers that signed in earlier are sent through a login with `max_age` and come back, API clients get `401` |
//! | [`Assured<A>`](Assured) | extractor: a user who signed in at an assurance `A` accepts (the ID token's `acr`), e.g. `Assured<require::Aal2>`; others are sent through a login with `acr_values` (browsers) or get `401` (API clients) |
//! | [`IdmeRejection`] | the extractors' rejection (the same in every adapter): its [`reason`](IdmeRejection::reason) to match on (not signed in, not verified, store down, bad bearer token, …) and the engine's answer; take `Result<IdmeUser, IdmeRejection>` to answer on your own |
//! | [`idme_core`] | the engine, re-exported: no second dependency needed |
//!
//! A router whose every route needs a signed-in user, served with the peer's address (for
//! the app clients' per-address limits and device page):
//!
//! ```no_run
//! use axum::{Json, Router, routing::get};
//! use idme_axum::{IdmeLayer, IdmeUser, RequireUserLayer};
//! // The engine, re-exported: `idme-axum` is the only idme dependency an app needs.
//! use idme_axum::idme_core;
//! use idme_core::{Idme, IdmeBuilder};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let idme = Idme::new(IdmeBuilder::from_env()?.build()?);
//! let protected = Router::new()
//!     .route("/account", get(|| async { "only for signed-in users" }))
//!     .route_layer(RequireUserLayer::new());
//! let app = Router::new()
//!     .route("/me", get(|user: IdmeUser| async move { Json(user.to_json()) }))
//!     .merge(protected)
//!     .merge(idme_axum::routes(&idme))
//!     .layer(IdmeLayer::new(idme));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! // With the peer's address, for the app clients' per-address limits and device page.
//! let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! A handler that renders its own page for a failed extractor matches on the rejection's
//! reason:
//!
//! ```
//! use axum::response::{Html, IntoResponse, Response};
//! use idme_axum::idme_core::adapter::RejectionReason;
//! use idme_axum::idme_core::require::Student;
//! use idme_axum::{IdmeRejection, Verified};
//!
//! async fn student(user: Result<Verified<Student>, IdmeRejection>) -> Response {
//!     match user {
//!         Ok(user) => format!("hello {}", user.sub()).into_response(),
//!         Err(rejection) => match rejection.reason() {
//!             RejectionReason::NotVerified { verify_url, .. } => {
//!                 Html(format!("<a href=\"{verify_url}\">Verify your student status</a>"))
//!                     .into_response()
//!             }
//!             // Otherwise the engine's answer (a sign-in redirect, `401` JSON, `503`, …).
//!             _ => rejection.into_response(),
//!         },
//!     }
//! }
//! ```
#![forbid(unsafe_code)]
#![forbid(unused_must_use)]

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod extract;
mod layer;
mod routes;

/// The engine this adapter drives, re-exported so that an application needs only
/// `idme-axum` as a dependency. `use idme_axum::idme_core;` brings it into scope, and
/// every `idme_core::…` path (in these docs, the engine's docs and the workspace examples)
/// then works unchanged.
pub use idme_core;

pub use extract::{Assured, Fresh, IdmeRejection, IdmeUser, SameOrigin, Verified};
pub use layer::{IdmeLayer, RequireUser, RequireUserLayer, SetCookies, WithIdme};
pub use routes::routes;

use axum::body::Body;
use axum::response::Response;
use idme_core::{Reply, RequestCookies};

/// Converts the engine's reply into an axum response.
pub(crate) fn into_response(reply: Reply) -> Response {
    reply.into_http().map(Body::from)
}

/// The request's cookies, for the engine.
pub(crate) fn cookies(headers: &http::HeaderMap) -> RequestCookies {
    RequestCookies::from_headers(headers)
}
