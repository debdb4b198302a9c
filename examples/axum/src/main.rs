//! The idme-rs example app on axum: the example-app contract of DESIGN.md.
//!
//! `cargo run -p idme-example-axum`, then open <http://127.0.0.1:3000>. With no
//! `IDME_CLIENT_ID` it signs in against the built-in emulator.
#![forbid(unsafe_code)]

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use idme_axum::{IdmeLayer, IdmeUser};
use idme_core::Idme;

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
            get(|user: IdmeUser| async move { Json(idme_example_support::me_json(&user)) }),
        )
        .merge(idme_axum::routes(&idme))
        .layer(IdmeLayer::new(idme))
}

#[tokio::main]
async fn main() -> Result<(), idme_example_support::StartError> {
    let started = idme_example_support::bootstrap("idme-example-axum").await?;
    let listener = tokio::net::TcpListener::bind(started.bind).await?;
    let _emulator = started.emulator;
    axum::serve(listener, app(started.idme))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
