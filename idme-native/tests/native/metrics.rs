//! A native sign-in is counted like a web callback (`idme_sign_ins_total`), read back
//! with a recorder installed for the test's thread only.

use idme_core::LoginOptions;
use idme_testkit::browser::Browser;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

use super::custom_scheme::{REDIRECT, setup};

/// `idme_sign_ins_total{outcome}` since the last snapshot.
fn sign_ins(snapshots: &Snapshotter, outcome: &str) -> u64 {
    let snapshot = snapshots.snapshot().into_vec();
    let found = snapshot.into_iter().find(|(key, _, _, _)| {
        let key = key.key();
        key.name() == idme_core::metrics::SIGN_INS_TOTAL
            && key
                .labels()
                .any(|l| l.key() == "outcome" && l.value() == outcome)
    });
    match found {
        Some((_, _, _, DebugValue::Counter(n))) => n,
        _ => 0,
    }
}

#[tokio::test]
async fn native_sign_ins_are_counted_with_their_outcome() {
    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _on_this_thread = metrics::set_default_local_recorder(&recorder);
    let (_emulator, idme) = setup().await;
    let now = idme.config().clock().now();
    let options = LoginOptions::default();
    let start = || idme.start_native_login(REDIRECT, &options, now);

    let login = start().await.unwrap();
    let page = Browser::new().get(&login.authorize_url).await;
    let location = page.headers["location"].to_str().unwrap().to_owned();
    let session = idme
        .finish_native_redirect(login.pending, &location, now)
        .await;
    assert!(session.is_ok(), "{session:?}");
    assert_eq!(sign_ins(&snapshots, "success"), 1);

    let login = start().await.unwrap();
    let refused = idme
        .finish_native_login(login.pending, "code=abc", now)
        .await;
    assert!(refused.is_err());
    assert_eq!(sign_ins(&snapshots, "invalid_state"), 1);
}
