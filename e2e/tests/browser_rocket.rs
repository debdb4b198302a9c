//! The browser suite against `examples/rocket`: real headless Chromium, real process.
idme_e2e::browser_tests!("idme-example-rocket");
