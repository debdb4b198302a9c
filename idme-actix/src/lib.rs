//! # idme-actix
//!
//! Sign in with ID.me in [actix-web](https://docs.rs/actix-web) 4. A thin adapter: every
//! flow decision is made by [`idme_core`]; this crate converts actix requests into the
//! engine's inputs and the engine's [`Reply`] into actix responses.
//!
//! The smallest app, `examples/quickstart.rs` (configured by the `IDME_*` variables):
//!
#![doc = concat!("```no_run\n", include_str!("../examples/quickstart.rs"), "```")]
//!
//! | item | what it does |
//! |---|---|
//! | [`configure`] | registers the engine and mounts `GET` login, `GET`+`POST` callback, `POST` logout, `POST` back-channel logout at the configured paths, and the routes of the engine's [extensions](idme_core::extension) |
//! | [`IdmeMiddleware`] | **required** around the app: sets the cookies the extractors produce (refreshed sessions, deletions) |
//! | [`IdmeUser`] | extractor: the signed-in user; browsers without a session are sent to sign in, API clients get `401` JSON |
//! | `Option<IdmeUser>` | `None` when nobody is signed in; a session store that is down is still `503` |
//! | [`Verified<R>`](Verified) | extractor: a user ID.me verified, e.g. `Verified<require::Veteran>`; others get `403` with an offer to verify |
//! | [`Fresh<N>`](Fresh) | extractor: a user who signed in at most `N` seconds ago, e.g. `Fresh<300>`; browsers that signed in earlier are sent through a login with `max_age` and come back, API clients get `401` |
//! | [`Assured<A>`](Assured) | extractor: a user who signed in at an assurance `A` accepts (the ID token's `acr`), e.g. `Assured<require::Aal2>`; others are sent through a login with `acr_values` (browsers) or get `401` (API clients) |
//! | [`IdmeRejection`] | the extractors' rejection (the same in every adapter): its [`reason`](IdmeRejection::reason) to match on (not signed in, not verified, store down, bad bearer token, …) and the engine's answer; take `Result<IdmeUser, IdmeRejection>` to answer on your own |
//! | [`RequireUser`] | middleware protecting every route of a scope |
//! | [`idme_core`] | the engine, re-exported: no second dependency needed |
//!
//! A scope whose every route needs a signed-in user:
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, HttpServer, web};
//! use idme_actix::{IdmeMiddleware, IdmeUser, RequireUser};
//! // The engine, re-exported: `idme-actix` is the only idme dependency an app needs.
//! use idme_actix::idme_core;
//! use idme_core::{Idme, IdmeBuilder};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let idme = Idme::new(IdmeBuilder::from_env()?.build()?);
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(IdmeMiddleware)
//!         .configure(idme_actix::configure(&idme))
//!         .route("/me", web::get().to(|user: IdmeUser| async move {
//!             HttpResponse::Ok().json(user.to_json())
//!         }))
//!         .service(
//!             web::scope("/account")
//!                 .wrap(RequireUser::new())
//!                 .route("", web::get().to(|| async { "only for signed-in users" })),
//!         )
//! })
//! .bind("127.0.0.1:3000")?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! A handler that renders its own page for a failed extractor matches on the rejection's
//! reason:
//!
//! ```
//! use actix_web::{HttpResponse, ResponseError};
//! use idme_actix::idme_core::adapter::RejectionReason;
//! use idme_actix::idme_core::require::Student;
//! use idme_actix::{IdmeRejection, Verified};
//!
//! async fn student(user: Result<Verified<Student>, IdmeRejection>) -> HttpResponse {
//!     match user {
//!         Ok(user) => HttpResponse::Ok().body(format!("hello {}", user.sub())),
//!         Err(rejection) => match rejection.reason() {
//!             RejectionReason::StoreUnavailable(_) => HttpResponse::ServiceUnavailable()
//!                 .body("We are having trouble: try again in a minute."),
//!             // Otherwise the engine's answer (a sign-in redirect, `401` JSON, `403`, …).
//!             _ => rejection.error_response(),
//!         },
//!     }
//! }
//! ```
//!
//! The engine is looked up in the app data, as a `web::Data<Idme>` (what [`configure`]
//! registers) or a plain [`Idme`].
#![forbid(unsafe_code)]
#![forbid(unused_must_use)]

mod extract;
mod middleware;
mod routes;

/// The engine this adapter drives, re-exported so that an application needs only
/// `idme-actix` as a dependency. `use idme_actix::idme_core;` brings it into scope, and
/// every `idme_core::…` path (in these docs, the engine's docs and the workspace examples)
/// then works unchanged.
pub use idme_core;

pub use extract::{Assured, Fresh, IdmeRejection, IdmeUser, SameOrigin, Verified};
pub use middleware::{IdmeMiddleware, IdmeMiddlewareService, RequireUser, RequireUserMiddleware};
pub use routes::configure;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use idme_core::adapter::missing_setup;
use idme_core::{Idme, Reply, RequestCookies};

/// Converts the engine's reply into an actix response.
pub(crate) fn into_response(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    for (name, value) in reply.header_pairs() {
        builder.append_header((name, value));
    }
    builder.body(reply.body)
}

/// The request's cookies, for the engine.
pub(crate) fn cookies(req: &HttpRequest) -> RequestCookies {
    // UTF-8 validation (vectorised) rather than `to_str`'s byte-by-byte visible-ASCII
    // check: a signed-in request carries a 1.7 KB session cookie.
    RequestCookies::from_header_values(
        req.headers()
            .get_all(actix_web::http::header::COOKIE)
            .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok()),
    )
}

/// The engine shared through the app data.
pub(crate) fn engine(req: &HttpRequest) -> Option<&Idme> {
    req.app_data::<web::Data<Idme>>()
        .map(|d| d.get_ref())
        .or_else(|| req.app_data::<Idme>())
}

/// The engine, or the `500` that names the missing setup call.
pub(crate) fn registered(req: &HttpRequest) -> Result<&Idme, IdmeRejection> {
    engine(req).ok_or_else(|| missing_setup("Idme engine", extract::SETUP).into())
}
