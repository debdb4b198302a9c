//! The emulator's integration tests, one binary: each module is a concern.

#[path = "../common/mod.rs"]
mod common;

mod authorize_logout;
mod discovery_keys;
mod faults;
mod http_faults;
mod native_clients;
mod prompt_acr_scope;
mod security_events;
mod token_endpoint;
