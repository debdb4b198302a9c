//! # idme-rocket
//!
//! Sign in with ID.me in [Rocket](https://rocket.rs) 0.5. A thin adapter: every flow
//! decision is made by [`idme_core`]; this crate converts Rocket requests into the engine's
//! inputs and the engine's [`Reply`] into Rocket responses.
//!
//! The smallest app, `examples/quickstart.rs` (configured by the `IDME_*` variables):
//!
#![doc = concat!("```no_run\n", include_str!("../examples/quickstart.rs"), "```")]
//!
//! | item | what it does |
//! |---|---|
//! | [`IdmeFairing`] | manages the engine, mounts `GET` login, `GET`+`POST` callback, `POST` logout, `POST` back-channel logout at the configured paths and the routes of the engine's [extensions](idme_core::extension), answers failed [`IdmeUser`] guards, and sets the cookies they produce (refreshed sessions, deletions) |
//! | [`IdmeFairing::from_figment`] | builds the engine from the `[default.idme]` table of `Rocket.toml`, falling back to `IDME_*` variables |
//! | [`IdmeUser`] | request guard: the signed-in user; browsers without a session are sent to sign in, API clients get `401` JSON |
//! | `Option<IdmeUser>` | `None` when nobody is signed in |
//! | [`Verified<R>`](Verified) | request guard: a user ID.me verified, e.g. `Verified<require::Veteran>`; others get `403` with an offer to verify |
//! | [`Fresh<N>`](Fresh) | request guard: a user who signed in at most `N` seconds ago, e.g. `Fresh<300>`; browsers that signed in earlier are sent through a login with `max_age` and come back, API clients get `401` |
//! | [`Assured<A>`](Assured) | request guard: a user who signed in at an assurance `A` accepts (the ID token's `acr`), e.g. `Assured<require::Aal2>`; others are sent through a login with `acr_values` (browsers) or get `401` (API clients) |
//! | [`IdmeRejection`] | the guards' error: its [`reason`](IdmeRejection::reason) to match on (not signed in, not verified, store down, bad bearer token, …), and the engine's answer (a `Responder`); [`IdmeRejection::for_failed_guard`] in an app's own catcher |
//! | [`IdmeResponse`] | any engine [`Reply`] as a Rocket `Responder` |
//! | [`idme_core`] | the engine, re-exported: no second dependency needed |
//!
//! Without a session the [`IdmeUser`] guard fails with `401`, and the `401` catcher the
//! fairing registers sends the engine's answer (a `303` to the login route for browsers,
//! `401` JSON for API clients). An app that registers its own `401` (`403`, `503`) catcher
//! at `/` keeps it: call [`IdmeRejection::for_failed_guard`] there to match on the reason
//! or answer as the engine decided. A handler can also take
//! `Result<IdmeUser, IdmeRejection>` (or `Result<Verified<R>, IdmeRejection>`) and answer
//! on its own:
//!
//! ```
//! use idme_rocket::idme_core::adapter::RejectionReason;
//! use idme_rocket::idme_core::require::Student;
//! use idme_rocket::{IdmeRejection, Verified};
//! use rocket::Either;
//!
//! #[rocket::get("/student")]
//! fn student(
//!     user: Result<Verified<Student>, IdmeRejection>,
//! ) -> Either<String, IdmeRejection> {
//!     match user {
//!         Ok(user) => Either::Left(format!("hello {}", user.sub())),
//!         Err(rejection) => match rejection.reason() {
//!             RejectionReason::NotVerified { verify_url, .. } => {
//!                 Either::Left(format!("verify your student status first: {verify_url}"))
//!             }
//!             // Otherwise the engine's answer (a sign-in redirect, `401` JSON, …).
//!             _ => Either::Right(rejection),
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

mod fairing;
mod guard;
mod routes;

/// The engine this adapter drives, re-exported so that an application needs only
/// `idme-rocket` as a dependency. `use idme_rocket::idme_core;` brings it into scope, and
/// every `idme_core::…` path (in these docs, the engine's docs and the workspace examples)
/// then works unchanged.
pub use idme_core;

pub use fairing::IdmeFairing;
pub use guard::{Assured, Fresh, IdmeRejection, IdmeUser, SameOrigin, Verified};
pub use routes::routes;

use std::io::Cursor;

use idme_core::{Reply, RequestCookies};
use rocket::http::Status;
use rocket::response::{self, Responder, Response};
use rocket::{Request, catcher};

/// Any [`Reply`] of the engine as a Rocket response: status, headers, every `Set-Cookie`,
/// body. Not a guard's error: a failed [`IdmeUser`] or [`Verified`] guard fails with an
/// [`IdmeRejection`], which also responds.
#[derive(Clone)]
pub struct IdmeResponse(pub Reply);

/// Only the status: Rocket logs a failed guard's error, and headers may hold cookies.
impl std::fmt::Debug for IdmeResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("IdmeResponse").field(&self.0.status).finish()
    }
}

impl<'r> Responder<'r, 'static> for IdmeResponse {
    fn respond_to(self, _req: &'r Request<'_>) -> response::Result<'static> {
        let reply = self.0;
        let mut res = Response::build();
        res.status(Status::new(reply.status));
        for (name, value) in reply.header_pairs() {
            res.raw_header_adjoin(name.to_owned(), value);
        }
        res.sized_body(reply.body.len(), Cursor::new(reply.body));
        Ok(res.finalize())
    }
}

/// The request's cookies, for the engine.
pub(crate) fn cookies(req: &Request<'_>) -> RequestCookies {
    RequestCookies::from_header_values(req.headers().get("Cookie"))
}

/// The `401`, `403` and `503` catcher registered by [`IdmeFairing`]: the engine's answer to a
/// failed [`IdmeUser`] or [`Verified`] guard, else a plain status page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unauthorized;

#[rocket::async_trait]
impl catcher::Handler for Unauthorized {
    async fn handle<'r>(&self, status: Status, req: &'r Request<'_>) -> catcher::Result<'r> {
        match IdmeRejection::for_failed_guard(req) {
            Some(rejection) => rejection.respond_to(req),
            None => (status, status.to_string()).respond_to(req),
        }
    }
}
