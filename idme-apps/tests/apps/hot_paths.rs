//! The paths a fleet of clients hits all day, and what they cost the store: a burst of
//! bearer requests with one access token reads its grant once (revocations and rotations
//! on this instance still take effect at once); a device's poll reads only the person's
//! decision and writes nothing.

use super::common;
use super::probe;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::apps::*;
use idme_apps::AppServer;
use idme_testkit::Persona;
use idme_testkit::pair::Pair;
use probe::Probe;
use serde_json::Value;

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

async fn probed(
    configure: impl FnOnce(idme_core::IdmeBuilder) -> idme_core::IdmeBuilder,
) -> (Pair, Probe) {
    let probe = Probe::default();
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(probe.clone()),
        configure,
    )
    .await;
    (pair, probe)
}

fn loads(probe: &Probe) -> u64 {
    probe.knobs.loads.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_burst_of_bearer_requests_reads_the_grant_once() {
    let (pair, probe) = probed(|b| b).await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let access = s(&tokens, "access_token");
    let before = loads(&probe);
    let first = bearer(&pair, access).await.expect("accepted");
    for _ in 0..50 {
        let again = bearer(&pair, access).await.expect("accepted");
        assert_eq!(again.to_json(), first.to_json());
    }
    assert_eq!(loads(&probe) - before, 1, "one read for 51 requests");
    // Another token of the same grant's shape but not its own: never the cached user.
    let (head, _) = access.rsplit_once('.').expect("id.secret");
    let forged = format!("{head}.{}", "A".repeat(43));
    assert_invalid_token(&bearer(&pair, &forged).await.unwrap_err());
}

#[tokio::test]
async fn a_cached_bearer_user_ends_at_once_with_a_revocation_rotation_or_logout_here() {
    let (pair, _probe) = probed(|b| b).await;
    // Rotated: the old access token is dead at once, the new one works.
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    assert!(bearer(&pair, s(&tokens, "access_token")).await.is_ok());
    let rotated = json(&refresh(&pair, DEVICE, s(&tokens, "refresh_token")).await);
    assert_invalid_token(&bearer(&pair, s(&tokens, "access_token")).await.unwrap_err());
    assert!(bearer(&pair, s(&rotated, "access_token")).await.is_ok());
    // Revoked (RFC 7009): dead at once.
    let revoke = form(&[
        ("token", s(&rotated, "refresh_token")),
        ("client_id", DEVICE),
    ]);
    assert_eq!(post(&pair, Route::Revoke, &revoke).await.status, 200);
    assert_invalid_token(
        &bearer(&pair, s(&rotated, "access_token"))
            .await
            .unwrap_err(),
    );
    // The browser that approved signs out: dead at once.
    let (mut browser, tokens) = approved(&pair, DEVICE, None).await;
    assert!(bearer(&pair, s(&tokens, "access_token")).await.is_ok());
    let out = pair.logout(&mut browser).await;
    assert!(out.status < 400, "{} {}", out.status, out.body);
    assert_invalid_token(&bearer(&pair, s(&tokens, "access_token")).await.unwrap_err());
    // The person signs out everywhere (from another browser): dead at once.
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    assert!(bearer(&pair, s(&tokens, "access_token")).await.is_ok());
    let other = pair.sign_in().await;
    let origin = pair.origin();
    let out = pair
        .idme
        .logout_everywhere(&other.cookies(), Some(&origin), Some("same-origin"))
        .await;
    assert!(out.status < 400, "{} {}", out.status, out.body);
    assert_invalid_token(&bearer(&pair, s(&tokens, "access_token")).await.unwrap_err());
}

#[tokio::test]
async fn an_expired_access_token_is_refused_from_the_cache_too() {
    let (pair, _probe) = probed(|b| b).await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let access = s(&tokens, "access_token");
    assert!(bearer(&pair, access).await.is_ok());
    let lifetime = tokens["expires_in"].as_u64().expect("expires_in");
    pair.advance(Duration::from_secs(lifetime));
    assert_invalid_token(&bearer(&pair, access).await.unwrap_err());
}

#[tokio::test]
async fn with_no_reuse_configured_every_bearer_request_reads_the_store() {
    let (pair, probe) = probed(|b| b.session_store_cache(Duration::ZERO)).await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let before = loads(&probe);
    for _ in 0..5 {
        assert!(bearer(&pair, s(&tokens, "access_token")).await.is_ok());
    }
    assert_eq!(loads(&probe) - before, 5);
}

#[tokio::test]
async fn a_pending_poll_reads_only_the_decision_and_writes_nothing() {
    let (pair, probe) = probed(|b| b).await;
    let codes = device_code(&pair, DEVICE, None).await;
    let device_code = s(&codes, "device_code");
    let (loads_before, writes_before) = (loads(&probe), probe.knobs.writes.load(Ordering::SeqCst));
    for _ in 0..3 {
        assert_eq!(
            error(&poll(&pair, DEVICE, device_code).await),
            (400, "authorization_pending".into())
        );
        pair.advance(Duration::from_secs(5));
    }
    assert_eq!(loads(&probe) - loads_before, 3, "the decision, once a poll");
    assert_eq!(
        probe.knobs.writes.load(Ordering::SeqCst),
        writes_before,
        "no write"
    );
    // Too soon: slow_down, with no store call at all.
    assert_eq!(
        error(&poll(&pair, DEVICE, device_code).await),
        (400, "authorization_pending".into())
    );
    let loads_before = loads(&probe);
    assert_eq!(
        error(&poll(&pair, DEVICE, device_code).await),
        (400, "slow_down".into())
    );
    assert_eq!(loads(&probe), loads_before);
}

#[tokio::test]
async fn another_instance_reads_a_device_request_once_then_paces_its_own_polls() {
    let probe = Probe::default();
    let keys = idme_core::CookieKeys::random();
    let a = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(probe.clone()),
        {
            let keys = keys.clone();
            move |b| b.cookie_keys(keys)
        },
    )
    .await;
    let b = a
        .second_with_engine(move |b| b.cookie_keys(keys), {
            let store = Arc::new(probe.clone());
            move |e| e.extension(AppServer::new(clients()).with_store(store))
        })
        .unwrap();
    let codes = device_code(&a, DEVICE, None).await;
    let device_code = s(&codes, "device_code");
    let before = loads(&probe);
    assert_eq!(
        error(&poll(&b, DEVICE, device_code).await),
        (400, "authorization_pending".into())
    );
    assert_eq!(loads(&probe) - before, 2, "the request, then the decision");
    assert_eq!(
        error(&poll(&b, DEVICE, device_code).await),
        (400, "slow_down".into())
    );
    a.advance(Duration::from_secs(10));
    let before = loads(&probe);
    assert_eq!(
        error(&poll(&b, DEVICE, device_code).await),
        (400, "authorization_pending".into())
    );
    assert_eq!(loads(&probe) - before, 1, "the decision only");
}
