//! The build script's rule: the `test-helpers` feature builds only with debug assertions,
//! or with `IDME_TESTKIT_ALLOW_RELEASE=1`.

#[path = "../build.rs"]
mod build;

#[test]
fn test_helpers_are_refused_without_debug_assertions() {
    let why = build::refusal(true, false, None).expect("a release build is refused");
    assert!(why.contains("[dev-dependencies]"), "{why}");
    assert!(why.contains("IDME_TESTKIT_ALLOW_RELEASE=1"), "{why}");
    assert!(build::refusal(true, false, Some("0")).is_some());
    assert!(build::refusal(true, false, Some("yes")).is_some());
}

#[test]
fn debug_builds_the_escape_hatch_and_builds_without_the_feature_pass() {
    assert_eq!(build::refusal(true, true, None), None);
    assert_eq!(build::refusal(true, false, Some("1")), None);
    assert_eq!(build::refusal(false, false, None), None);
}
