//! The contract suite against `examples/rocket`, as a real process.
idme_e2e::contract_tests!("idme-example-rocket");
