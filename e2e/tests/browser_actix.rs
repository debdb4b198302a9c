//! The browser suite against `examples/actix`: real headless Chromium, real process.
idme_e2e::browser_tests!("idme-example-actix");
