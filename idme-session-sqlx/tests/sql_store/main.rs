//! The SQL store's integration tests, one binary (one Postgres server for all, each test
//! on tables of its own; a SQLite file per test): each module is a concern.

#[path = "../common/mod.rs"]
mod common;

mod app_grants;
mod conformance;
mod instances;
mod specifics;
