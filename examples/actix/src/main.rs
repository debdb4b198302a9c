//! The idme-rs example app on actix-web: the example-app contract of
//! `examples/README.md`.
//!
//! `cargo run -p idme-example-actix`, then open <http://127.0.0.1:3000>. With no
//! `IDME_CLIENT_ID` it signs in against the built-in emulator.
#![forbid(unsafe_code)]

use actix_web::{App, HttpResponse, HttpServer, web};
use idme_actix::{Fresh, IdmeUser, Verified};
// The engine, through the adapter's re-export: the adapter is the only idme dependency.
use idme_actix::idme_core;
use idme_core::Idme;
use idme_core::require::{self, Verify};

async fn home(idme: web::Data<Idme>, user: Option<IdmeUser>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(idme_example_support::home_page(&idme, user.as_deref()))
}

async fn me(user: IdmeUser) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(idme_example_support::me_body(&user))
}

/// A static file of the single-page app, with its headers.
fn spa_file(content_type: &'static str, body: &'static str) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.content_type(content_type);
    for header in idme_example_support::spa::SPA_HEADERS {
        response.insert_header(header);
    }
    response.body(body)
}

async fn spa_page() -> HttpResponse {
    use idme_example_support::spa::{SPA_PAGE, SPA_PAGE_TYPE};
    spa_file(SPA_PAGE_TYPE, SPA_PAGE)
}

async fn spa_script() -> HttpResponse {
    use idme_example_support::spa::{SPA_SCRIPT, SPA_SCRIPT_TYPE};
    spa_file(SPA_SCRIPT_TYPE, SPA_SCRIPT)
}

/// `POST /api/action`: `IdmeUser` refuses a cross-site request (403) and takes a bearer
/// token too.
async fn action(user: IdmeUser) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(idme_example_support::spa::action_body(&user))
}

/// `GET /verified/…`: 200 for a user who meets `R`, else 403 (with an offer to verify).
async fn verified<R: Verify>(user: Verified<R>) -> HttpResponse {
    HttpResponse::Ok().json(idme_example_support::verified_json(
        &user,
        &R::requirement(),
    ))
}

/// `GET /verified/recent`: 200 for a sign-in within the last 300 s; else a browser is sent
/// through a login with `max_age` (and comes back), an API client gets 401.
async fn recent(user: Fresh<{ idme_example_support::RECENT_MAX_AGE }>) -> HttpResponse {
    HttpResponse::Ok().json(idme_example_support::recent_json(&user))
}

#[actix_web::main]
async fn main() -> Result<(), idme_example_support::StartError> {
    let started = idme_example_support::bootstrap("idme-example-actix").await?;
    let _emulator = started.emulator;
    let idme = started.idme;
    HttpServer::new(move || {
        App::new()
            .wrap(idme_actix::IdmeMiddleware)
            .route("/", web::get().to(home))
            .route("/me", web::get().to(me))
            .route("/spa", web::get().to(spa_page))
            .route("/spa/app.js", web::get().to(spa_script))
            .route("/api/action", web::post().to(action))
            .route(
                "/verified/military",
                web::get().to(verified::<require::Military>),
            )
            .route(
                "/verified/veteran",
                web::get().to(verified::<require::Veteran>),
            )
            .route("/verified/recent", web::get().to(recent))
            .configure(idme_actix::configure(&idme))
    })
    .bind(started.bind)?
    .run()
    .await?;
    Ok(())
}
