//! Bearer requests (RFC 6750) through the adapter glue: the same `IdmeUser` as the
//! cookie, `401` with a challenge for bad tokens (also under `Option<IdmeUser>`), `403
//! insufficient_scope`, never the query string. (No token in logs: `apps_logs.rs`.)

mod common;

use common::apps::*;
use idme_core::adapter::{GuardRequest, RequestAuth};
use idme_core::{Group, Requirement};
use idme_testkit::pair::{Browser, Pair};

async fn optional(
    pair: &Pair,
    authorization: Option<&str>,
    browser: Option<&Browser>,
) -> Result<Option<idme_core::IdmeUser>, idme_core::adapter::Rejection> {
    let request = GuardRequest {
        idme: Some(&pair.idme),
        setup: "test",
        accept: Some("text/html"),
        path_and_query: "/me",
        authorization,
        method: "GET",
        provenance: Default::default(),
        sec_fetch_mode: None,
    };
    let cookies = browser.map(Browser::cookies).unwrap_or_default();
    RequestAuth::new()
        .optional_user(&request, move || cookies)
        .await
}

async fn verified(
    pair: &Pair,
    token: &str,
    requirement: Requirement,
) -> Result<idme_core::IdmeUser, idme_core::adapter::Rejection> {
    let header = format!("Bearer {token}");
    let request = GuardRequest {
        idme: Some(&pair.idme),
        setup: "test",
        accept: Some("text/html"),
        path_and_query: "/verified/student",
        authorization: Some(&header),
        method: "GET",
        provenance: Default::default(),
        sec_fetch_mode: None,
    };
    RequestAuth::new()
        .verified(&request, Default::default, &requirement)
        .await
}

#[tokio::test]
async fn the_bearer_user_is_the_cookie_user() {
    let pair = rig().await;
    // Granted everything the person has verified: the same user as their web session.
    let (browser, tokens) = approved(&pair, DEVICE, Some("military ial2")).await;
    let cookie_user = guard(&pair, None, Some(&browser)).await.unwrap();
    let at = tokens["access_token"].as_str().unwrap();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let user = guard(&pair, Some(&format!("{scheme} {at}")), None)
            .await
            .unwrap();
        assert_eq!(user.to_json(), cookie_user.to_json());
        assert_eq!(user.json(), cookie_user.json());
        assert_eq!(user.sub(), cookie_user.sub());
        assert!(user.is_verified(Group::Military));
        assert!(
            user.access_token().is_none(),
            "no ID.me token for app clients"
        );
    }
    // Under Option<IdmeUser> and Verified<R> too.
    assert!(
        optional(&pair, Some(&format!("Bearer {at}")), None)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        verified(&pair, at, Requirement::Group(Group::Military))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn bad_expired_and_revoked_tokens_get_401_with_a_challenge_also_when_optional() {
    let pair = rig().await;
    let (browser, tokens) = approved(&pair, DEVICE, None).await;
    let at = tokens["access_token"].as_str().unwrap();
    let forged = format!("{}x", at);
    // Shaped like ours: the token alone decides.
    for bad in ["Bearer a.b", &format!("Bearer {forged}")] {
        assert_invalid_token(&guard(&pair, Some(bad), None).await.unwrap_err());
        // A presented bad credential is never "anonymous".
        let rejection = optional(&pair, Some(bad), None).await.unwrap_err();
        assert_invalid_token(&rejection);
        // A bearer header wins over a good session cookie.
        assert_invalid_token(&guard(&pair, Some(bad), Some(&browser)).await.unwrap_err());
    }
    // Other schemes, and bearer tokens not shaped like ours (an API gateway's JWT, an
    // opaque token, nothing), are not this application's: the cookie decides, as if the
    // header were absent.
    let jwt = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJnYXRld2F5In0.c2lnbmF0dXJl";
    for foreign in ["Bearer garbage", "Bearer", jwt] {
        assert!(
            guard(&pair, Some(foreign), Some(&browser)).await.is_ok(),
            "{foreign}"
        );
        let rejection = guard(&pair, Some(foreign), None).await.unwrap_err();
        assert_eq!(rejection.status, 401);
        assert_eq!(rejection.reply.header("www-authenticate"), Some("Bearer"));
        assert!(
            optional(&pair, Some(foreign), None)
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(
        guard(&pair, Some("Basic dXNlcjpwYXNz"), Some(&browser))
            .await
            .is_ok()
    );
    assert_eq!(
        optional(&pair, Some("Basic dXNlcjpwYXNz"), None)
            .await
            .unwrap()
            .map(|u| u.sub().to_owned()),
        None
    );
    // Expired.
    pair.advance(std::time::Duration::from_secs(600));
    assert_invalid_token(&bearer(&pair, at).await.unwrap_err());
    assert_invalid_token(
        &optional(&pair, Some(&format!("Bearer {at}")), None)
            .await
            .unwrap_err(),
    );
}

#[tokio::test]
async fn a_missing_verification_is_403_insufficient_scope_with_the_verify_url() {
    let pair = rig().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let at = tokens["access_token"].as_str().unwrap();
    let rejection = verified(&pair, at, Requirement::Group(Group::Student))
        .await
        .unwrap_err();
    assert_eq!(rejection.status, 403);
    assert_eq!(rejection.reply.status, 403);
    let challenge = rejection.reply.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\""),
        "{challenge}"
    );
    let body = json(&rejection.reply);
    assert!(
        body["verify_url"]
            .as_str()
            .unwrap()
            .contains("policy=student"),
        "{body}"
    );
    // The reason an application matches on: the requirement, and where to verify.
    let idme_core::adapter::RejectionReason::InsufficientScope {
        requirement,
        verify_url,
    } = rejection.reason()
    else {
        panic!("{rejection:?}");
    };
    assert_eq!(requirement, &Requirement::Group(Group::Student));
    assert_eq!(Some(verify_url.as_str()), body["verify_url"].as_str());
}

#[tokio::test]
async fn a_token_in_the_query_string_is_never_read() {
    let pair = rig().await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let at = tokens["access_token"].as_str().unwrap();
    let path = format!("/me?access_token={at}");
    let request = GuardRequest {
        idme: Some(&pair.idme),
        setup: "test",
        accept: Some("application/json"),
        path_and_query: &path,
        authorization: None,
        method: "GET",
        provenance: Default::default(),
        sec_fetch_mode: None,
    };
    let rejection = RequestAuth::new()
        .user(&request, Default::default)
        .await
        .unwrap_err();
    assert_eq!(rejection.status, 401);
    assert_eq!(json(&rejection.reply)["error"], "unauthenticated");
}

#[tokio::test]
async fn with_app_clients_off_the_authorization_header_is_ignored() {
    let pair = common::rig_at(
        idme_testkit::pair::PAIR_REDIRECT_URI,
        Some(idme_testkit::Persona::Veteran),
        |b| b,
    )
    .await;
    let browser = pair.sign_in().await;
    assert!(
        guard(&pair, Some("Bearer garbage"), Some(&browser))
            .await
            .is_ok()
    );
    let rejection = guard(&pair, Some("Bearer garbage"), None)
        .await
        .unwrap_err();
    assert_eq!(json(&rejection.reply)["error"], "unauthenticated");
    assert!(rejection.reply.header("www-authenticate").is_none());
    assert!(pair.idme.authenticate_bearer("garbage").await.is_err());
}

#[tokio::test]
async fn a_grant_shows_only_the_policies_it_was_granted() {
    let pair = rig().await;
    // The veteran has verified military status and IAL2; the device asked for nothing.
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let at = tokens["access_token"].as_str().unwrap();
    let user = bearer(&pair, at).await.unwrap();
    assert!(!user.is_verified(Group::Military), "not granted");
    assert!(!user.is_ial2(), "not granted");
    let groups = &user.to_json()["verification"]["groups"];
    assert_eq!(groups, &serde_json::json!([]), "{groups}");
    assert!(user.to_json()["claims"].get("credential_ial").is_none());
    // Its identity stays.
    assert_eq!(user.to_json()["claims"]["fname"], "Vera");
    // A guard on what was not granted: 403, RFC 6750's insufficient_scope naming it.
    let rejection = verified(&pair, at, Requirement::Group(Group::Military))
        .await
        .unwrap_err();
    assert_eq!(rejection.status, 403);
    let challenge = rejection.reply.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\", scope=\"military\""),
        "{challenge}"
    );
    // Granted military only: military passes, IAL2 does not.
    let (_, tokens) = approved(&pair, DEVICE, Some("military")).await;
    let at = tokens["access_token"].as_str().unwrap();
    assert!(
        verified(&pair, at, Requirement::Group(Group::Military))
            .await
            .is_ok()
    );
    let rejection = verified(&pair, at, Requirement::Ial2).await.unwrap_err();
    let challenge = rejection.reply.header("www-authenticate").unwrap();
    assert!(challenge.contains("scope=\"ial2\""), "{challenge}");
}

#[tokio::test]
async fn an_api_client_without_credentials_gets_the_bearer_challenge() {
    let pair = rig().await;
    let rejection = guard(&pair, None, None).await.unwrap_err();
    assert_eq!(rejection.status, 401);
    assert_eq!(rejection.reply.header("www-authenticate"), Some("Bearer"));
    let body = json(&rejection.reply);
    assert_eq!(body["error"], "unauthenticated");
    assert!(body["error_description"].is_string(), "{body}");
}
