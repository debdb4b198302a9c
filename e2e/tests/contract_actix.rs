//! The contract suite against `examples/actix`, as a real process.
idme_e2e::contract_tests!("idme-example-actix");
