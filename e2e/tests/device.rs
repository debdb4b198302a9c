//! The app-client suite (device grant, code + PKCE relay with consent, bearer tokens) against each example app, as a real process.

mod axum {
    idme_e2e::device_tests!("idme-example-axum");
}

mod actix {
    idme_e2e::device_tests!("idme-example-actix");
}

mod rocket {
    idme_e2e::device_tests!("idme-example-rocket");
}
