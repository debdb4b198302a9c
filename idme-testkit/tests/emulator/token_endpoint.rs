//! The token endpoint over loopback HTTP: PKCE, client authentication, single-use codes and
//! access tokens, refresh rotation.

use super::common;

use common::*;

use idme_testkit::{EmulatorConfig, Persona};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn code_flow_with_pkce_basic_auth_and_userinfo() {
    let idme = start_auto(Persona::Veteran).await;
    let params = code_authorization(&idme).await;
    assert_eq!(params.get("state").map(String::as_str), Some("st-1"));
    assert_eq!(params.get("iss"), Some(&idme.issuer()));
    assert!(!params.contains_key("id_token"));
    let code = &params["code"];

    let (status, body) = exchange(&idme, code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["refresh_expires_in"], 604_800);
    assert_eq!(body["scope"], "openid military");
    let access_token = body["access_token"].as_str().expect("access_token");
    assert!(body["refresh_token"].is_string());

    let claims = verify(&idme, body["id_token"].as_str().expect("id_token")).await;
    assert_eq!(claims["sub"], Persona::Veteran.sub());
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["at_hash"], half_hash(access_token));
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    assert_eq!(lifetime, 5 * 3600);

    let (status, text) = userinfo(&idme, access_token).await;
    assert_eq!(status, StatusCode::OK);
    let jwt: String = serde_json::from_str(&text).expect("userinfo body is a JSON string literal");
    let info = verify(&idme, &jwt).await;
    assert_eq!(info["sub"], Persona::Veteran.sub());
    // OIDC Core §5.3.2: signed userinfo carries iss and aud.
    assert_eq!(info["iss"], idme.issuer());
    assert_eq!(info["aud"], idme.client_id());
    assert_eq!(info["uuid"], Persona::Veteran.sub());
    assert_eq!(info["fname"], "Vera");
    assert!(info["emails_confirmed"].is_array());

    // Attributes need a token of their own: refresh for one.
    let refresh = body["refresh_token"].as_str().expect("refresh");
    let (_, refreshed) = token_request(
        &idme,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        true,
    )
    .await;
    let url = format!("{}/api/public/v3/attributes.json", idme.base_url());
    let token = refreshed["access_token"].as_str().expect("access_token");
    let attributes: Value = http()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        attributes["status"],
        serde_json::json!([{"group": "military", "subgroups": ["Veteran"], "verified": true}])
    );
    let stats = idme.stats();
    assert_eq!(
        (
            stats.authorize,
            stats.token,
            stats.userinfo,
            stats.attributes
        ),
        (1, 2, 1, 1)
    );
}

#[tokio::test]
async fn code_reuse_is_invalid_grant_and_revokes_tokens() {
    let idme = start_auto(Persona::Student).await;
    let params = code_authorization(&idme).await;
    let (status, first) = exchange(&idme, &params["code"], VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    let (status, second) = exchange(&idme, &params["code"], VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(second["error"], "invalid_grant");
    // Everything issued from the replayed code is revoked.
    let (status, _) = userinfo(&idme, first["access_token"].as_str().expect("at")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let form = [
        ("grant_type", "refresh_token"),
        (
            "refresh_token",
            first["refresh_token"].as_str().expect("rt"),
        ),
    ];
    let (_, refused) = token_request(&idme, &form, true).await;
    assert_eq!(refused["error"], "invalid_grant");
}

#[tokio::test]
async fn pkce_mismatch_is_invalid_grant() {
    let idme = start_auto(Persona::Veteran).await;
    let params = code_authorization(&idme).await;
    let (status, body) = exchange(
        &idme,
        &params["code"],
        "another-verifier-of-sufficient-length-abcdefghijk",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (_, body) = token_request(&idme, &form, true).await;
    assert_eq!(
        body["error"], "invalid_grant",
        "a missing verifier is refused too"
    );
}

#[tokio::test]
async fn client_authentication() {
    let idme = start_auto(Persona::Veteran).await;
    let params = code_authorization(&idme).await;
    let code = params["code"].as_str();
    let url = format!("{}/oauth/token", idme.base_url());
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", idme.client_id()),
    ];

    let wrong = http()
        .post(&url)
        .form(&form)
        .basic_auth(idme.client_id(), Some("wrong"))
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.json::<Value>().await.expect("json")["error"],
        "invalid_client"
    );

    let mut with_secret = form.to_vec();
    with_secret.push(("client_secret", idme.client_secret()));
    let both = http()
        .post(&url)
        .form(&with_secret)
        .basic_auth(idme.client_id(), Some(idme.client_secret()))
        .send()
        .await
        .expect("post");
    assert_eq!(
        both.status(),
        StatusCode::UNAUTHORIZED,
        "two authentication methods at once"
    );

    let neither = http().post(&url).form(&form).send().await.expect("post");
    assert_eq!(neither.status(), StatusCode::UNAUTHORIZED);

    let (status, body) = token_request(&idme, &with_secret, false).await;
    assert_eq!(status, StatusCode::OK, "client_secret_post: {body}");
    assert!(body["id_token"].is_string());
}

#[tokio::test]
async fn access_tokens_are_single_use() {
    let idme = start_auto(Persona::Unverified).await;
    let params = code_authorization(&idme).await;
    let (_, body) = exchange(&idme, &params["code"], VERIFIER).await;
    let token = body["access_token"].as_str().expect("access_token");
    assert_eq!(userinfo(&idme, token).await.0, StatusCode::OK);
    let (status, body) = userinfo(&idme, token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("invalid_token"));
    assert_eq!(userinfo(&idme, "made-up").await.0, StatusCode::UNAUTHORIZED);

    let reusable = start(EmulatorConfig {
        auto_user: Some(Persona::Unverified),
        single_use_access_tokens: false,
        ..Default::default()
    })
    .await;
    let params = code_authorization(&reusable).await;
    let (_, body) = exchange(&reusable, &params["code"], VERIFIER).await;
    let token = body["access_token"].as_str().expect("access_token");
    assert_eq!(userinfo(&reusable, token).await.0, StatusCode::OK);
    assert_eq!(userinfo(&reusable, token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let idme = start_auto(Persona::Veteran).await;
    let params = code_authorization(&idme).await;
    let (_, first) = exchange(&idme, &params["code"], VERIFIER).await;
    let old = first["refresh_token"].as_str().expect("refresh_token");

    let (status, second) = token_request(
        &idme,
        &[("grant_type", "refresh_token"), ("refresh_token", old)],
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    let claims = verify(&idme, second["id_token"].as_str().expect("id_token")).await;
    assert_eq!(claims["sub"], Persona::Veteran.sub());
    assert!(claims.get("nonce").is_none());

    let (status, again) = token_request(
        &idme,
        &[("grant_type", "refresh_token"), ("refresh_token", old)],
        true,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");
}
