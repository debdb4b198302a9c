//! The smallest actix-web app that signs people in with ID.me: a public page, a page for
//! signed-in users and one for verified veterans. Run it with the `IDME_*` variables set:
//! `cargo run -p idme-actix --example quickstart`.

use actix_web::{App, HttpServer, web};
use idme_actix::idme_core::require::Veteran;
use idme_actix::idme_core::{Idme, IdmeBuilder};
use idme_actix::{IdmeMiddleware, IdmeUser, Verified};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // IDME_CLIENT_ID, IDME_CLIENT_SECRET, IDME_REDIRECT_URI, IDME_COOKIE_KEYS, …
    let idme = Idme::new(IdmeBuilder::from_env()?.build()?);
    HttpServer::new(move || {
        App::new()
            // Required: sets the cookies the extractors produce.
            .wrap(IdmeMiddleware)
            // GET /auth/login, GET and POST /auth/callback, POST /auth/logout, …
            .configure(idme_actix::configure(&idme))
            .route("/", web::get().to(home))
            .route("/account", web::get().to(account))
            .route("/veterans", web::get().to(veterans))
    })
    .bind("127.0.0.1:3000")?
    .run()
    .await?;
    Ok(())
}

/// Public: `None` for anonymous visitors.
async fn home(user: Option<IdmeUser>) -> String {
    match user {
        Some(user) => format!("Hello {}", user.sub()),
        None => "Hello, visitor: sign in at /auth/login".to_owned(),
    }
}

/// Signed-in users only: browsers are sent to sign in, API clients get `401`.
async fn account(user: IdmeUser) -> String {
    user.to_json().to_string()
}

/// Users ID.me verified as veterans; others get `403` with an offer to verify.
async fn veterans(user: Verified<Veteran>) -> String {
    format!("Thank you for your service, {}", user.sub())
}
