//! The Rocket adapter's integration tests, one binary: each module is a concern.

mod adapter;
mod contract;
