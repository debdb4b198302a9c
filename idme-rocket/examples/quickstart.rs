//! The smallest Rocket app that signs people in with ID.me: a public page, a page for
//! signed-in users and one for verified veterans. Run it with the `IDME_*` variables set:
//! `cargo run -p idme-rocket --example quickstart`.

use idme_rocket::idme_core::require::Veteran;
use idme_rocket::{IdmeFairing, IdmeUser, Verified};
use rocket::{get, routes};

#[rocket::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    rocket::build()
        // `[default.idme]` in Rocket.toml, or IDME_CLIENT_ID, IDME_CLIENT_SECRET, …; mounts
        // GET /auth/login, GET and POST /auth/callback, POST /auth/logout, …
        .attach(IdmeFairing::from_figment())
        .mount("/", routes![home, account, veterans])
        .launch()
        .await?;
    Ok(())
}

/// Public: `None` for anonymous visitors.
#[get("/")]
fn home(user: Option<IdmeUser>) -> String {
    match user {
        Some(user) => format!("Hello {}", user.sub()),
        None => "Hello, visitor: sign in at /auth/login".to_owned(),
    }
}

/// Signed-in users only: browsers are sent to sign in, API clients get `401`.
#[get("/account")]
fn account(user: IdmeUser) -> String {
    user.to_json().to_string()
}

/// Users ID.me verified as veterans; others get `403` with an offer to verify.
#[get("/veterans")]
fn veterans(user: Verified<Veteran>) -> String {
    format!("Thank you for your service, {}", user.sub())
}
