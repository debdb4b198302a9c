//! axum-oidc 0.6 with the routes `bench/compare.sh` measures: `GET /protected` is behind
//! `OidcLoginLayer` (a visitor without a session is sent to the provider) and answers the
//! signed-in user's ID token claims as JSON; sessions are tower-sessions' `MemoryStore`.
//!
//! Settings: `BIND_ADDR` (127.0.0.1:3100), `OIDC_ISSUER`, `OIDC_CLIENT_ID`,
//! `OIDC_CLIENT_SECRET`. The provider must have `http://BIND_ADDR/protected` registered
//! as a redirect URI (axum-oidc redirects back to the protected route itself).
#![forbid(unsafe_code)]

use axum::error_handling::HandleErrorLayer;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use axum_oidc::error::MiddlewareError;
use axum_oidc::{EmptyAdditionalClaims, OidcAuthLayer, OidcClaims, OidcLoginLayer};
use tower::ServiceBuilder;
use tower_sessions::cookie::SameSite;
use tower_sessions::{MemoryStore, SessionManagerLayer};

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

async fn protected(claims: OidcClaims<EmptyAdditionalClaims>) -> impl IntoResponse {
    Json(claims.0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:3100".into());
    let base = Uri::from_maybe_shared(format!("http://{bind}"))?;
    let auth = OidcAuthLayer::<EmptyAdditionalClaims>::discover_client(
        base,
        setting("OIDC_ISSUER")?,
        setting("OIDC_CLIENT_ID")?,
        Some(setting("OIDC_CLIENT_SECRET")?),
        Vec::new(),
    )
    .await?;
    let login = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|e: MiddlewareError| async {
            e.into_response()
        }))
        .layer(OidcLoginLayer::<EmptyAdditionalClaims>::new());
    let auth = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|e: MiddlewareError| async {
            e.into_response()
        }))
        .layer(auth);
    let sessions = SessionManagerLayer::new(MemoryStore::default())
        .with_secure(false)
        .with_same_site(SameSite::Lax);
    let app = Router::new()
        .route("/protected", get(protected))
        .layer(login)
        .route("/", get(|| async { "axum-oidc" }))
        .layer(auth)
        .layer(sessions);
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{bind}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
