//! The engine's integration tests against the in-memory emulator, one binary: each
//! module is a concern (`sessions::…`, `logout::…`).

// encryption.rs is its own binary: it captures log lines with a scoped subscriber (tracing
// caches each callsite's interest process-wide, so other tests' threads can turn its events off).

#[path = "../common/mod.rs"]
mod common;

mod assurance;
mod callback_security;
mod id_token_checks;
mod jwks_clock;
mod key_rotation;
mod login_prompt;
mod logout;
mod metrics;
mod pair_clock;
mod pair_expiry;
mod pending_cookie;
mod provider_faults;
mod provider_keys;
mod readme;
mod rejection;
mod response_types;
mod security_events;
mod session_races;
mod session_size;
mod sessions;
mod step_up;
mod token_exchange;
mod token_response;
mod verification;
