//! The app server's metrics, read back with a recorder installed for the test's thread
//! only (`metrics-util`'s `DebuggingRecorder`): a device grant's issue, a refresh, a
//! pending poll and refused bearer tokens.

use std::time::Duration;

use super::common;

use common::apps::*;
use idme_apps::metrics as m;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// The counter `name{label=value}` recorded since the last snapshot (0 when none).
fn counter(snapshots: &Snapshotter, name: &str, label: &str, value: &str) -> u64 {
    let snapshot = snapshots.snapshot().into_vec();
    let found = snapshot.into_iter().find(|(key, _, _, _)| {
        let key = key.key();
        key.name() == name && key.labels().any(|l| l.key() == label && l.value() == value)
    });
    match found {
        Some((_, _, _, DebugValue::Counter(n))) => n,
        Some(other) => panic!("{name} is not a counter: {other:?}"),
        None => 0,
    }
}

#[tokio::test]
async fn a_device_grant_counts_its_polls_and_its_tokens() {
    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _on_this_thread = metrics::set_default_local_recorder(&recorder);
    let pair = rig().await;
    let codes = device_code(&pair, DEVICE, None).await;
    let device_code = codes["device_code"].as_str().unwrap();
    let pending = poll(&pair, DEVICE, device_code).await;
    assert_eq!(pending.status, 400, "{}", pending.body);
    let (reason, pending) = (m::LABEL_REASON, "authorization_pending");
    assert_eq!(
        counter(&snapshots, m::APP_TOKEN_REJECTIONS_TOTAL, reason, pending),
        1
    );

    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let issued = m::APP_TOKENS_ISSUED_TOTAL;
    assert_eq!(counter(&snapshots, issued, "grant_type", "device_code"), 1);

    let reply = refresh(&pair, DEVICE, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        counter(&snapshots, issued, "grant_type", "refresh_token"),
        1
    );

    let reply = refresh(&pair, DEVICE, "not-a-refresh-token").await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let rejections = m::APP_TOKEN_REJECTIONS_TOTAL;
    assert_eq!(counter(&snapshots, rejections, reason, "invalid_grant"), 1);
}

#[tokio::test]
async fn refused_bearer_tokens_are_counted_by_reason() {
    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _on_this_thread = metrics::set_default_local_recorder(&recorder);
    let pair = rig().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let access = tokens["access_token"].as_str().unwrap();
    snapshots.snapshot();

    assert!(bearer(&pair, access).await.is_ok());
    let rejections = m::APP_TOKEN_REJECTIONS_TOTAL;
    assert_eq!(
        counter(&snapshots, rejections, "reason", "invalid_token"),
        0
    );

    let forged = format!("{access}x");
    assert_invalid_token(&bearer(&pair, &forged).await.unwrap_err());
    assert_eq!(
        counter(&snapshots, rejections, "reason", "invalid_token"),
        1
    );

    let lifetime = tokens["expires_in"].as_u64().unwrap();
    pair.advance(Duration::from_secs(lifetime + 1));
    assert_invalid_token(&bearer(&pair, access).await.unwrap_err());
    assert_eq!(counter(&snapshots, rejections, "reason", "expired"), 1);
}
