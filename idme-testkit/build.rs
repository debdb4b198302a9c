//! Refuses the `test-helpers` feature in builds without debug assertions (release builds),
//! unless `IDME_TESTKIT_RELEASE_TESTS` is set: the helpers sign personas in, and belong in
//! tests only.

fn main() {
    println!("cargo::rerun-if-env-changed=IDME_TESTKIT_RELEASE_TESTS");
    let helpers = std::env::var_os("CARGO_FEATURE_TEST_HELPERS").is_some();
    let debug_assertions = std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some();
    let allowed = std::env::var_os("IDME_TESTKIT_RELEASE_TESTS").is_some_and(|v| v == "1");
    if helpers && !debug_assertions && !allowed {
        eprintln!(
            "error: idme-testkit's `test-helpers` feature is on in a build without debug \
             assertions (a release build). The helpers sign personas in and belong in tests: \
             put idme-testkit under [dev-dependencies]. To run tests with --release, set \
             IDME_TESTKIT_RELEASE_TESTS=1 for that command."
        );
        std::process::exit(1);
    }
}
