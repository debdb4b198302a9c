//! `idme-example-cli`: sign in with ID.me from a terminal (RFC 8252: the system browser, a
//! loopback redirect, PKCE), show who is signed in, sign out.
//!
//! ```text
//! idme-example-cli login [--no-browser]   sign in; prints `Signed in as <name> (<sub>)`
//! idme-example-cli whoami                 the signed-in user as JSON (exit 1 when signed out)
//! idme-example-cli logout                 forget the tokens; prints `Signed out` and ID.me's logout URL
//! idme-example-cli device-login --app URL  sign in to an app's server as a device (RFC 8628)
//! idme-example-cli whoami --app URL        that app's `GET /me` with its bearer token
//! idme-example-cli logout --app URL        revoke that app's tokens and forget them
//! ```
//!
//! Configured by the web examples' `IDME_*` variables plus `IDME_TOKEN_FILE` (the tokens are
//! kept in the OS keyring where one answers, else in a `0600` file; this file forces it); with no
//! `IDME_CLIENT_ID` it signs in against the built-in emulator (`IDME_TESTKIT_USER` picks
//! the persona without a page).
#![forbid(unsafe_code)]

mod app;
mod app_client;
mod app_http;
mod app_tokens;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match app::run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
