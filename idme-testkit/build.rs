//! Refuses the `test-helpers` feature in builds without debug assertions (release and
//! bench builds), unless `IDME_TESTKIT_ALLOW_RELEASE=1` is in the build's environment: the
//! helpers sign personas in, and belong in tests only. (`tests/release_rule.rs` checks
//! [`refusal`].)

/// The name of the variable allowing the helpers in a build without debug assertions.
const ALLOW: &str = "IDME_TESTKIT_ALLOW_RELEASE";

/// Why this build is refused, if it is: `helpers` when the feature is on,
/// `debug_assertions` when they are, `allow` the value of [`ALLOW`].
pub(crate) fn refusal(
    helpers: bool,
    debug_assertions: bool,
    allow: Option<&str>,
) -> Option<String> {
    if !helpers || debug_assertions || allow == Some("1") {
        return None;
    }
    Some(format!(
        "idme-testkit's `test-helpers` feature is on in a build without debug assertions \
         (a release or bench build). The helpers sign personas in and belong in tests: put \
         idme-testkit under [dev-dependencies], and run tests in the dev profile. For \
         `cargo test --release` or `cargo bench`, set {ALLOW}=1 for that one command."
    ))
}

#[allow(dead_code)] // Not called when tests/release_rule.rs includes this file.
fn main() {
    println!("cargo::rerun-if-env-changed={ALLOW}");
    let helpers = std::env::var_os("CARGO_FEATURE_TEST_HELPERS").is_some();
    let debug_assertions = std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some();
    let allow = std::env::var(ALLOW).ok();
    if let Some(why) = refusal(helpers, debug_assertions, allow.as_deref()) {
        eprintln!("error: {why}");
        std::process::exit(1);
    }
}
