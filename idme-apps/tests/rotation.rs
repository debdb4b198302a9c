//! Refresh rotation under contention: a lock held elsewhere is `503`, never
//! `invalid_grant`; a client's immediate retry with the token it just rotated gets the
//! same new pair within the reuse interval, and revokes the grant outside it; forged
//! tokens never hold the rotation locks.

mod common;
mod probe;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::apps::*;
use idme_apps::AppServer;
use idme_testkit::Persona;
use idme_testkit::pair::Pair;
use probe::Probe;
use serde_json::Value;

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

async fn probed() -> (Pair, Probe) {
    let probe = Probe::default();
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(probe.clone()),
        |b| b,
    )
    .await;
    (pair, probe)
}

#[tokio::test]
async fn a_rotation_lock_held_by_another_instance_is_503_and_the_token_survives() {
    let (pair, probe) = probed().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    probe.knobs.rotation_held.store(true, Ordering::SeqCst);
    let busy = refresh(&pair, DEVICE, s(&tokens, "refresh_token")).await;
    assert_eq!(error(&busy), (503, "temporarily_unavailable".into()));
    assert!(busy.header("retry-after").is_some());
    assert!(
        probe.knobs.rotation_locks.load(Ordering::SeqCst) > 1,
        "the lock was tried again before giving up"
    );
    probe.knobs.rotation_held.store(false, Ordering::SeqCst);
    let reply = refresh(&pair, DEVICE, s(&tokens, "refresh_token")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn a_retry_with_the_token_just_rotated_gets_the_same_pair_within_the_interval() {
    let pair = rig().await;
    let (_, first) = approved(&pair, DEVICE, None).await;
    let rt = s(&first, "refresh_token");
    let rotated = json(&refresh(&pair, DEVICE, rt).await);
    pair.advance(Duration::from_secs(9));
    // The response was lost; the client tries again with what it had.
    let again = refresh(&pair, DEVICE, rt).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let again = json(&again);
    assert_eq!(s(&again, "access_token"), s(&rotated, "access_token"));
    assert_eq!(s(&again, "refresh_token"), s(&rotated, "refresh_token"));
    assert_eq!(again["expires_in"], 591);
    assert!(bearer(&pair, s(&again, "access_token")).await.is_ok());
    // The pair rotates on as usual; the first token, now two rotations old, is reuse.
    let next = json(&refresh(&pair, DEVICE, s(&again, "refresh_token")).await);
    assert_eq!(
        error(&refresh(&pair, DEVICE, rt).await),
        (400, "invalid_grant".into())
    );
    assert_invalid_token(&bearer(&pair, s(&next, "access_token")).await.unwrap_err());
}

#[tokio::test]
async fn a_retry_after_the_reuse_interval_revokes_the_grant() {
    let pair = rig().await;
    let (_, first) = approved(&pair, DEVICE, None).await;
    let rt = s(&first, "refresh_token");
    let rotated = json(&refresh(&pair, DEVICE, rt).await);
    pair.advance(Duration::from_secs(10));
    assert_eq!(
        error(&refresh(&pair, DEVICE, rt).await),
        (400, "invalid_grant".into())
    );
    assert_invalid_token(
        &bearer(&pair, s(&rotated, "access_token"))
            .await
            .unwrap_err(),
    );
}

#[tokio::test]
async fn with_no_reuse_interval_an_immediate_retry_revokes_the_grant() {
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients().refresh_reuse_interval(Duration::ZERO)),
        |b| b,
    )
    .await;
    let (_, first) = approved(&pair, DEVICE, None).await;
    let rt = s(&first, "refresh_token");
    let rotated = json(&refresh(&pair, DEVICE, rt).await);
    assert_eq!(
        error(&refresh(&pair, DEVICE, rt).await),
        (400, "invalid_grant".into())
    );
    assert_invalid_token(
        &bearer(&pair, s(&rotated, "access_token"))
            .await
            .unwrap_err(),
    );
}

#[tokio::test]
async fn forged_tokens_take_no_rotation_lock() {
    let (pair, probe) = probed().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let rt = s(&tokens, "refresh_token");
    let id = rt.split('.').next().unwrap();
    let forged = [
        format!("{id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "unknownfamily.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
    ];
    for token in &forged {
        assert_eq!(
            error(&refresh(&pair, DEVICE, token).await),
            (400, "invalid_grant".into())
        );
    }
    assert_eq!(probe.knobs.rotation_locks.load(Ordering::SeqCst), 0);
    assert_eq!(refresh(&pair, DEVICE, rt).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_forged_tokens_does_not_delay_a_real_rotation() {
    let (pair, probe) = probed().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let rt = s(&tokens, "refresh_token").to_owned();
    let id = rt.split('.').next().unwrap().to_owned();
    // Every store lookup now takes 5 ms, as across a network.
    probe.knobs.load_delay_ms.store(5, Ordering::SeqCst);
    let flood: Vec<_> = (0..200)
        .map(|i| {
            let (pair, token) = (pair.clone(), format!("{id}.forged{i:0>38}"));
            tokio::spawn(async move { refresh(&pair, DEVICE, &token).await.status })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    let real = refresh(&pair, DEVICE, &rt).await;
    let took = started.elapsed();
    assert_eq!(real.status, 200, "{}", real.body);
    for task in flood {
        assert_eq!(task.await.unwrap(), 400);
    }
    assert!(
        took < Duration::from_millis(600),
        "the real rotation waited {took:?} behind forged tokens"
    );
}
