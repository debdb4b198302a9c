//! The apps' integration tests (authorization server, device flow, tokens, the three
//! framework mounts), one binary: each module is a concern.

// Their own binaries: logs.rs captures log lines with a scoped subscriber (tracing caches
// each callsite's interest process-wide, so other tests' threads can turn its events off);
// rotation.rs times a real rotation behind a flood of forged tokens.

#[path = "../common/mod.rs"]
mod common;
#[path = "../probe/mod.rs"]
mod probe;

mod actix;
mod authorize;
mod axum;
mod bearer;
mod config;
mod consent;
mod device;
mod device_page;
mod device_races;
mod hot_paths;
mod limits;
mod metrics;
mod rocket;
mod step_up;
mod test_idme;
mod tokens;
