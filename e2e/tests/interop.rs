//! Interop: each example app, as a real process, against Node's `oidc-provider`.

mod axum {
    idme_e2e::interop_tests!("idme-example-axum");
}

mod actix {
    idme_e2e::interop_tests!("idme-example-actix");
}

mod rocket {
    idme_e2e::interop_tests!("idme-example-rocket");
}
