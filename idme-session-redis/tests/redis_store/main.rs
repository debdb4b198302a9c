//! The Redis store's integration tests (each against its own `redis-server`), one
//! binary: each module is a concern.

#[path = "../common/mod.rs"]
mod common;

mod app_grants;
mod instances;
mod race;
mod store;
mod topologies;
