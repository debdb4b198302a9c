//! The idme-rs example app on Rocket: the example-app contract of
//! `examples/README.md`.
//!
//! `cargo run -p idme-example-rocket`, then open <http://127.0.0.1:3000>. With no
//! `IDME_CLIENT_ID` it signs in against the built-in emulator.
#![forbid(unsafe_code)]

use idme_core::Idme;
use idme_core::require::{self, Verify};
// The engine, through the adapter's re-export: the adapter is the only idme dependency.
use idme_rocket::idme_core;
use idme_rocket::{Fresh, IdmeFairing, IdmeUser, Verified};
use rocket::http::ContentType;
use rocket::response::content::RawHtml;
use rocket::{Responder, State, get, post, routes};

#[get("/")]
fn home(idme: &State<Idme>, user: Option<IdmeUser>) -> RawHtml<String> {
    RawHtml(idme_example_support::home_page(idme, user.as_deref()))
}

#[get("/me")]
fn me(user: IdmeUser) -> (ContentType, String) {
    (ContentType::JSON, idme_example_support::me_body(&user))
}

/// A static file of the single-page app, with its headers.
#[derive(Responder)]
struct SpaFile {
    body: &'static str,
    content_type: rocket::http::Header<'static>,
    csp: rocket::http::Header<'static>,
    nosniff: rocket::http::Header<'static>,
    referrer: rocket::http::Header<'static>,
    cache: rocket::http::Header<'static>,
}

fn spa_file(content_type: &'static str, body: &'static str) -> SpaFile {
    let [csp, nosniff, referrer, cache] = idme_example_support::spa::SPA_HEADERS
        .map(|(name, value)| rocket::http::Header::new(name, value));
    SpaFile {
        body,
        content_type: rocket::http::Header::new("content-type", content_type),
        csp,
        nosniff,
        referrer,
        cache,
    }
}

#[get("/spa")]
fn spa_page() -> SpaFile {
    use idme_example_support::spa::{SPA_PAGE, SPA_PAGE_TYPE};
    spa_file(SPA_PAGE_TYPE, SPA_PAGE)
}

#[get("/spa/app.js")]
fn spa_script() -> SpaFile {
    use idme_example_support::spa::{SPA_SCRIPT, SPA_SCRIPT_TYPE};
    spa_file(SPA_SCRIPT_TYPE, SPA_SCRIPT)
}

/// `POST /api/action`: `IdmeUser` refuses a cross-site request (403) and takes a bearer
/// token too.
#[post("/api/action")]
fn action(user: IdmeUser) -> (ContentType, String) {
    (
        ContentType::JSON,
        idme_example_support::spa::action_body(&user),
    )
}

fn verified_json<R: Verify>(user: &Verified<R>) -> (ContentType, String) {
    (
        ContentType::JSON,
        idme_example_support::verified_json(user, &R::requirement()).to_string(),
    )
}

/// `GET /verified/military`: 200 for a verified military member, else 403.
#[get("/verified/military")]
fn verified_military(user: Verified<require::Military>) -> (ContentType, String) {
    verified_json(&user)
}

/// `GET /verified/veteran`: 200 for a verified veteran, else 403.
#[get("/verified/veteran")]
fn verified_veteran(user: Verified<require::Veteran>) -> (ContentType, String) {
    verified_json(&user)
}

/// `GET /verified/recent`: 200 for a sign-in within the last 300 s; else a browser is sent
/// through a login with `max_age` (and comes back), an API client gets 401.
#[get("/verified/recent")]
fn verified_recent(user: Fresh<{ idme_example_support::RECENT_MAX_AGE }>) -> (ContentType, String) {
    (
        ContentType::JSON,
        idme_example_support::recent_json(&user).to_string(),
    )
}

#[rocket::main]
async fn main() -> Result<(), idme_example_support::StartError> {
    let started = idme_example_support::bootstrap("idme-example-rocket").await?;
    let _emulator = started.emulator;
    // BIND_ADDR decides where to listen; logging goes through the example's tracing setup.
    let figment = rocket::Config::figment()
        .merge(("address", started.bind.ip()))
        .merge(("port", started.bind.port()))
        .merge(("cli_colors", false));
    rocket::custom(figment)
        .attach(IdmeFairing::new(started.idme))
        .mount(
            "/",
            routes![
                home,
                me,
                spa_page,
                spa_script,
                action,
                verified_military,
                verified_veteran,
                verified_recent
            ],
        )
        .launch()
        .await
        .map_err(|e| e.pretty_print())?;
    Ok(())
}
