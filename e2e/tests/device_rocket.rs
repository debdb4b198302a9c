//! The app-client suite (device grant, code + PKCE relay, bearer tokens) against
//! `examples/rocket`, as a real process.
idme_e2e::device_tests!("idme-example-rocket");
