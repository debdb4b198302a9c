//! The native client's integration tests, one binary: each module is a concern.

#[path = "../common/mod.rs"]
mod common;

mod custom_scheme;
mod errors;
mod keyring;
mod listener;
mod login;
mod metrics;
