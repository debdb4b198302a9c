//! The contract suite against each example app (axum, actix-web, Rocket), each as a real process.

mod axum {
    idme_e2e::contract_tests!("idme-example-axum");
}

mod actix {
    idme_e2e::contract_tests!("idme-example-actix");
}

mod rocket {
    idme_e2e::contract_tests!("idme-example-rocket");
}
