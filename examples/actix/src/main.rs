//! The idme-rs example app on actix-web: the example-app contract of
//! `examples/README.md`.
//!
//! `cargo run -p idme-example-actix`, then open <http://127.0.0.1:3000>. With no
//! `IDME_CLIENT_ID` it signs in against the built-in emulator.
#![forbid(unsafe_code)]

use actix_web::{App, HttpResponse, HttpServer, web};
use idme_actix::{IdmeUser, Verified};
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

/// `GET /verified/…`: 200 for a user who meets `R`, else 403 (with an offer to verify).
async fn verified<R: Verify>(user: Verified<R>) -> HttpResponse {
    HttpResponse::Ok().json(idme_example_support::verified_json(
        &user,
        &R::requirement(),
    ))
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
            .route(
                "/verified/military",
                web::get().to(verified::<require::Military>),
            )
            .route(
                "/verified/veteran",
                web::get().to(verified::<require::Veteran>),
            )
            .configure(idme_actix::configure(&idme))
    })
    .bind(started.bind)?
    .run()
    .await?;
    Ok(())
}
