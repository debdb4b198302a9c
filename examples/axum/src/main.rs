//! The idme-rs example app on axum: the example-app contract of
//! `examples/README.md`.
//!
//! `cargo run -p idme-example-axum`, then open <http://127.0.0.1:3000>. With no
//! `IDME_CLIENT_ID` it signs in against the built-in emulator.
#![forbid(unsafe_code)]

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use idme_axum::{IdmeLayer, IdmeUser, Verified};
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
        .route("/verified/military", get(verified::<require::Military>))
        .route("/verified/veteran", get(verified::<require::Veteran>))
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
