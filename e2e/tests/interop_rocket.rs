//! Interop: `examples/rocket`, as a real process, against Node's `oidc-provider`.
idme_e2e::interop_tests!("idme-example-rocket");
