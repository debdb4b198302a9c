//! The axum adapter's integration tests, one binary: each module is a concern.

// login_flood.rs is its own binary: it times sign-ins during a flood of logins.
// no_secrets_leak.rs is its own binary: it sets the process-wide tracing subscriber.

#[path = "../common/mod.rs"]
mod common;

mod contract;
mod security;
mod sessions;
