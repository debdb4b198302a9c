//! The contract suite against `examples/axum`, as a real process.
idme_e2e::contract_tests!("idme-example-axum");
