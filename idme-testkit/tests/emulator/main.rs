//! The emulator's integration tests, one binary: each module is a concern.

#[path = "../common/mod.rs"]
mod common;

mod authorize_logout;
mod discovery_keys;
mod faults;
mod http_faults;
mod native_clients;
mod prompt_acr_scope;
mod token_endpoint;
