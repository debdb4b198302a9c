//! The idme-rs example app on axum: the example-app contract of
//! `examples/README.md`.
//!
//! `cargo run -p idme-example-axum`, then open <http://127.0.0.1:3000>. With no
//! `IDME_CLIENT_ID` it signs in against the built-in emulator.
#![forbid(unsafe_code)]

use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use idme_axum::{Fresh, IdmeLayer, IdmeUser, Verified};
// The engine, through the adapter's re-export: the adapter is the only idme dependency.
use idme_axum::idme_core;
use idme_core::Idme;
use idme_core::require::{self, Verify};

/// `GET /verified/…`: 200 for a user who meets `R`, else 403 (with an offer to verify).
async fn verified<R: Verify>(user: Verified<R>) -> Json<serde_json::Value> {
    Json(idme_example_support::verified_json(
        &user,
        &R::requirement(),
    ))
}

/// `GET /verified/recent`: 200 for a sign-in within the last 300 s; else a browser is sent
/// through a login with `max_age` (and comes back), an API client gets 401.
async fn recent(user: Fresh<{ idme_example_support::RECENT_MAX_AGE }>) -> Json<serde_json::Value> {
    Json(idme_example_support::recent_json(&user))
}

/// A static file of the single-page app, with its headers.
fn spa_file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    for (name, value) in idme_example_support::spa::SPA_HEADERS {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    }
    (headers, body)
}

/// The app's routes, with the sign-in routes and the engine layer.
fn app(idme: Idme) -> Router {
    Router::new()
        .route(
            "/",
            get(
                |axum::Extension(idme): axum::Extension<Idme>, user: Option<IdmeUser>| async move {
                    Html(idme_example_support::home_page(&idme, user.as_deref()))
                },
            ),
        )
        .route(
            "/me",
            get(|user: IdmeUser| async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    idme_example_support::me_body(&user),
                )
            }),
        )
        .route(
            "/spa",
            get(|| async {
                use idme_example_support::spa::{SPA_PAGE, SPA_PAGE_TYPE};
                spa_file(SPA_PAGE_TYPE, SPA_PAGE)
            }),
        )
        .route(
            "/spa/app.js",
            get(|| async {
                use idme_example_support::spa::{SPA_SCRIPT, SPA_SCRIPT_TYPE};
                spa_file(SPA_SCRIPT_TYPE, SPA_SCRIPT)
            }),
        )
        // `IdmeUser` refuses a cross-site request (403) and takes a bearer token too.
        .route(
            "/api/action",
            post(|user: IdmeUser| async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    idme_example_support::spa::action_body(&user),
                )
            }),
        )
        .route("/verified/military", get(verified::<require::Military>))
        .route("/verified/veteran", get(verified::<require::Veteran>))
        .route("/verified/recent", get(recent))
        .merge(idme_axum::routes(&idme))
        .layer(IdmeLayer::new(idme))
}

#[tokio::main]
async fn main() -> Result<(), idme_example_support::StartError> {
    let started = idme_example_support::bootstrap("idme-example-axum").await?;
    let listener = tokio::net::TcpListener::bind(started.bind).await?;
    let _emulator = started.emulator;
    // The peer's address reaches the engine (per-address limits, the device page).
    let service = app(started.idme).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
