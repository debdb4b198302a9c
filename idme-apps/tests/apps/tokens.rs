//! The app's own tokens in memory: refresh rotation and reuse detection, revocation
//! (RFC 7009), the person's logout, back-channel logout and security events, lifetimes,
//! and two engines sharing one app store.

use super::common;

use std::sync::Arc;
use std::time::Duration;

use common::apps::*;
use idme_apps::AppServer;
use idme_core::MemoryStore;
use idme_testkit::Persona;
use idme_testkit::pair::Pair;
use serde_json::Value;

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

async fn revoke(pair: &Pair, client: &str, token: &str) -> idme_core::Reply {
    post(
        pair,
        Route::Revoke,
        &form(&[("token", token), ("client_id", client)]),
    )
    .await
}

#[tokio::test]
async fn refresh_rotates_and_reusing_a_rotated_token_revokes_the_family() {
    let pair = rig().await;
    let (_, first) = approved(&pair, DEVICE, None).await;
    let rotated = refresh(&pair, DEVICE, s(&first, "refresh_token")).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(rotated.header("cache-control"), Some("no-store"));
    let second = json(&rotated);
    assert_ne!(s(&second, "refresh_token"), s(&first, "refresh_token"));
    assert_ne!(s(&second, "access_token"), s(&first, "access_token"));
    // The old access token died with the rotation; the new one works.
    assert_invalid_token(&bearer(&pair, s(&first, "access_token")).await.unwrap_err());
    assert!(bearer(&pair, s(&second, "access_token")).await.is_ok());
    let third = json(&refresh(&pair, DEVICE, s(&second, "refresh_token")).await);
    assert!(bearer(&pair, s(&third, "access_token")).await.is_ok());

    // The first refresh token comes back: reuse. The whole family is revoked.
    let reused = refresh(&pair, DEVICE, s(&first, "refresh_token")).await;
    assert_eq!(error(&reused), (400, "invalid_grant".into()));
    assert_invalid_token(&bearer(&pair, s(&third, "access_token")).await.unwrap_err());
    assert_eq!(
        error(&refresh(&pair, DEVICE, s(&third, "refresh_token")).await),
        (400, "invalid_grant".into())
    );
}

#[tokio::test]
async fn refresh_refuses_unknown_foreign_and_malformed_requests() {
    let pair = rig().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let rt = s(&tokens, "refresh_token");
    assert_eq!(
        error(&refresh(&pair, DEVICE, "garbage").await),
        (400, "invalid_grant".into())
    );
    assert_eq!(
        error(&refresh(&pair, DEVICE, "abc.def").await),
        (400, "invalid_grant".into())
    );
    assert_eq!(
        error(&refresh(&pair, NATIVE, rt).await),
        (400, "invalid_grant".into())
    );
    assert_eq!(
        error(&refresh(&pair, "stranger", rt).await),
        (401, "invalid_client".into())
    );
    // An access token is no refresh token.
    assert_eq!(
        error(&refresh(&pair, DEVICE, s(&tokens, "access_token")).await),
        (400, "invalid_grant".into())
    );
    let missing = form(&[("grant_type", "refresh_token"), ("client_id", DEVICE)]);
    assert_eq!(
        error(&post(&pair, Route::Token, &missing).await),
        (400, "invalid_request".into())
    );
    // Still good after all that.
    assert_eq!(refresh(&pair, DEVICE, rt).await.status, 200);
}

#[tokio::test]
async fn access_tokens_last_600_seconds_and_the_family_7_days() {
    let pair = rig().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    assert_eq!(tokens["expires_in"], 600);
    pair.advance(Duration::from_secs(599));
    assert!(bearer(&pair, s(&tokens, "access_token")).await.is_ok());
    pair.advance(Duration::from_secs(1));
    assert_invalid_token(&bearer(&pair, s(&tokens, "access_token")).await.unwrap_err());
    let mut rt = s(&tokens, "refresh_token").to_owned();
    for _ in 0..6 {
        pair.advance(Duration::from_secs(24 * 3600));
        let next = json(&refresh(&pair, DEVICE, &rt).await);
        rt = s(&next, "refresh_token").to_owned();
    }
    pair.advance(Duration::from_secs(24 * 3600));
    assert_eq!(
        error(&refresh(&pair, DEVICE, &rt).await),
        (400, "invalid_grant".into())
    );
}

#[tokio::test]
async fn revoking_a_refresh_or_an_access_token_revokes_the_grant() {
    let pair = rig().await;
    for which in ["refresh_token", "access_token"] {
        let (_, tokens) = approved(&pair, DEVICE, None).await;
        let reply = revoke(&pair, DEVICE, s(&tokens, which)).await;
        assert_eq!(reply.status, 200);
        assert!(reply.body.is_empty());
        assert_invalid_token(&bearer(&pair, s(&tokens, "access_token")).await.unwrap_err());
        assert_eq!(
            error(&refresh(&pair, DEVICE, s(&tokens, "refresh_token")).await),
            (400, "invalid_grant".into())
        );
    }
    // Unknown tokens: 200 all the same. Another client's token is left alone.
    assert_eq!(revoke(&pair, DEVICE, "nothing.here").await.status, 200);
    assert_eq!(revoke(&pair, DEVICE, "garbage").await.status, 200);
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    assert_eq!(
        revoke(&pair, NATIVE, s(&tokens, "refresh_token"))
            .await
            .status,
        200
    );
    assert!(bearer(&pair, s(&tokens, "access_token")).await.is_ok());
    // An unregistered client, a missing token.
    assert_eq!(
        error(&revoke(&pair, "stranger", s(&tokens, "access_token")).await),
        (401, "invalid_client".into())
    );
    let reply = post(&pair, Route::Revoke, &form(&[("client_id", DEVICE)])).await;
    assert_eq!(error(&reply), (400, "invalid_request".into()));
}

#[tokio::test]
async fn a_logout_ends_the_grants_that_browser_approved_and_everywhere_ends_all() {
    let pair = rig().await;
    let (mut browser, tokens) = approved(&pair, DEVICE, None).await;
    let (mut other_browser, other) = approved(&pair, DEVICE, None).await;
    assert!(bearer(&pair, s(&tokens, "access_token")).await.is_ok());
    let reply = pair.logout(&mut browser).await;
    assert_eq!(reply.status, 303);
    assert_invalid_token(&bearer(&pair, s(&tokens, "access_token")).await.unwrap_err());
    // Approved in another browser: that one's logout, not this one's.
    assert!(bearer(&pair, s(&other, "access_token")).await.is_ok());
    let (_, third) = approved(&pair, DEVICE, None).await;
    let origin = pair.origin();
    let reply = pair
        .idme
        .logout_everywhere(&other_browser.cookies(), Some(&origin), Some("same-origin"))
        .await;
    other_browser.apply(&reply.set_cookies);
    assert_eq!(reply.status, 303);
    for t in [&tokens, &other, &third] {
        assert_invalid_token(&bearer(&pair, s(t, "access_token")).await.unwrap_err());
        assert_eq!(
            error(&refresh(&pair, DEVICE, s(t, "refresh_token")).await),
            (400, "invalid_grant".into())
        );
    }
}

#[tokio::test]
async fn a_back_channel_logout_revokes_the_persons_app_grants() {
    let pair = rig().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let reply = pair
        .backchannel_logout(Persona::Veteran, serde_json::json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_invalid_token(&bearer(&pair, s(&tokens, "access_token")).await.unwrap_err());
    assert_eq!(
        error(&refresh(&pair, DEVICE, s(&tokens, "refresh_token")).await),
        (400, "invalid_grant".into())
    );
    // By sub alone too (a new pair: this one refuses the provider session now).
    let pair = rig().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let reply = pair
        .backchannel_logout(Persona::Veteran, serde_json::json!({ "sid": null }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_invalid_token(&bearer(&pair, s(&tokens, "access_token")).await.unwrap_err());
}

#[tokio::test]
async fn a_security_event_on_one_instance_revokes_the_persons_app_grants_on_all() {
    use idme_testkit::set_transmitter::{SetTransmitter, iss_sub, risc_event};
    const JWKS: &str = "https://events.example/jwks";
    let store = Arc::new(MemoryStore::new());
    let keys = idme_core::CookieKeys::random();
    let server = AppServer::new(clients()).with_store(Arc::clone(&store));
    let a = rig_with(Persona::Veteran, server, {
        let keys = keys.clone();
        move |b| b.cookie_keys(keys)
    })
    .await;
    let transmitter = SetTransmitter::new("rp-events").unwrap();
    let client = transmitter.client_with(&a.emulator, JWKS);
    let b = a
        .second_with_engine(
            move |b| b.cookie_keys(keys).security_events("rp-events", JWKS),
            move |e| {
                e.extension(AppServer::new(clients()).with_store(store))
                    .http_client(client)
            },
        )
        .unwrap();
    let (_, tokens) = approved(&a, DEVICE, None).await;
    assert!(bearer(&a, s(&tokens, "access_token")).await.is_ok());
    let subject = iss_sub(&a.emulator.issuer(), Persona::Veteran.sub());
    let claims = transmitter.claims(&risc_event("account-disabled"), subject, b.now());
    let set = transmitter.sign(&claims);
    let reply = b
        .idme
        .receive_security_event(Some("application/secevent+jwt"), set.as_bytes())
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_refused_soon(&a, s(&tokens, "access_token")).await;
    assert_eq!(
        error(&refresh(&a, DEVICE, s(&tokens, "refresh_token")).await),
        (400, "invalid_grant".into())
    );
}

#[tokio::test]
async fn two_engines_on_one_app_store_honour_each_others_tokens_and_revocations() {
    let store = Arc::new(MemoryStore::new());
    let keys = idme_core::CookieKeys::random();
    let a = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(Arc::clone(&store)),
        {
            let keys = keys.clone();
            move |b| b.cookie_keys(keys)
        },
    )
    .await;
    let b = a
        .second_with_engine(
            {
                let keys = keys.clone();
                move |b| b.cookie_keys(keys)
            },
            {
                let store = Arc::clone(&store);
                move |e| e.extension(AppServer::new(clients()).with_store(store))
            },
        )
        .unwrap();
    let (_, tokens) = approved(&a, DEVICE, None).await;
    let on_a = bearer(&a, s(&tokens, "access_token")).await.unwrap();
    let on_b = bearer(&b, s(&tokens, "access_token")).await.unwrap();
    assert_eq!(on_a.to_json(), on_b.to_json());
    // Rotated on B, the old refresh token is reuse on A.
    let rotated = json(&refresh(&b, DEVICE, s(&tokens, "refresh_token")).await);
    assert!(bearer(&a, s(&rotated, "access_token")).await.is_ok());
    // Revoked on B: dead on A.
    assert_eq!(
        revoke(&b, DEVICE, s(&rotated, "refresh_token"))
            .await
            .status,
        200
    );
    assert_refused_soon(&a, s(&rotated, "access_token")).await;
    // A device code approved on A is taken once, whichever engine is polled.
    let codes = device_code(&a, DEVICE, None).await;
    let mut browser = a.sign_in().await;
    let confirm = page_for(&a, &mut browser, s(&codes, "user_code")).await;
    assert_eq!(
        decide(&a, &mut browser, &confirm, "allow").await.status,
        200
    );
    a.advance(Duration::from_secs(5));
    let dc = s(&codes, "device_code");
    assert_eq!(poll(&b, DEVICE, dc).await.status, 200);
    a.advance(Duration::from_secs(5));
    assert_eq!(
        error(&poll(&a, DEVICE, dc).await),
        (400, "invalid_grant".into())
    );
}

#[tokio::test]
async fn an_app_store_that_is_down_is_503_never_anonymous_nor_a_token() {
    let store = idme_testkit::pair::SwitchableStore::new();
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(store.clone()),
        |b| b,
    )
    .await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    store.set_down(true);
    let rejection = bearer(&pair, s(&tokens, "access_token")).await.unwrap_err();
    assert_eq!(rejection.status, 503);
    assert!(rejection.is_outage());
    let reply = refresh(&pair, DEVICE, s(&tokens, "refresh_token")).await;
    assert_eq!(error(&reply), (503, "temporarily_unavailable".into()));
    let reply = post(&pair, Route::DeviceCode, "client_id=tv-app").await;
    assert_eq!(error(&reply), (503, "temporarily_unavailable".into()));
    store.set_down(false);
    assert!(bearer(&pair, s(&tokens, "access_token")).await.is_ok());
    assert_eq!(
        refresh(&pair, DEVICE, s(&tokens, "refresh_token"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_logout_while_the_app_store_is_down_keeps_the_session_and_says_so() {
    let store = idme_testkit::pair::SwitchableStore::new();
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(store.clone()),
        |b| b,
    )
    .await;
    let (mut browser, tokens) = approved(&pair, DEVICE, None).await;
    store.set_down(true);
    let reply = pair.logout(&mut browser).await;
    assert_eq!(reply.status, 503, "never a success: {}", reply.body);
    store.set_down(false);
    // Nothing was ended: the grant lives, and the person can sign out again.
    assert!(bearer(&pair, s(&tokens, "access_token")).await.is_ok());
    assert_eq!(pair.logout(&mut browser).await.status, 303);
    assert_invalid_token(&bearer(&pair, s(&tokens, "access_token")).await.unwrap_err());
}
