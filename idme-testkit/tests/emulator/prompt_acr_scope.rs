//! The emulator's `prompt`, `max_age`/`auth_time`, `acr`, granted `scope` and the bare
//! OAuth `token` response type, with the faults that make each wrong.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idme_testkit::{Emulator, EmulatorConfig, Fault, Persona};
use reqwest::header::LOCATION;
use serde_json::Value;

const REDIRECT: &str = "http://127.0.0.1:1/auth/callback";
const IAL2: &str = "http://idmanagement.gov/ns/assurance/ial/2/aal/2";

async fn emulator(auto_user: Option<Persona>) -> Emulator {
    Emulator::start(EmulatorConfig {
        redirect_uris: vec![REDIRECT.into()],
        auto_user,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// The authorization response parameters (query or fragment) of a request with `extra`.
async fn authorize(idme: &Emulator, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut query = vec![("client_id", idme.client_id()), ("redirect_uri", REDIRECT)];
    query.extend_from_slice(extra);
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/oauth/authorize", idme.base_url()))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let url = url::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    let raw = url.fragment().or(url.query()).unwrap_or("").to_owned();
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

async fn exchange(idme: &Emulator, code: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/oauth/token", idme.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", idme.client_id()),
            ("client_secret", idme.client_secret()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

const CODE: &[(&str, &str)] = &[("response_type", "code"), ("state", "s"), ("nonce", "n")];

fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = CODE.to_vec();
    v.extend_from_slice(extra);
    v
}

#[tokio::test]
async fn prompt_is_validated_and_offline_access_needs_consent() {
    let idme = emulator(Some(Persona::Veteran)).await;
    for (extra, why) in [
        (vec![("scope", "openid"), ("prompt", "none login")], "none"),
        (vec![("scope", "openid"), ("prompt", "popup")], "popup"),
        (vec![("scope", "openid offline_access")], "offline_access"),
        (vec![("scope", "openid"), ("max_age", "soon")], "max_age"),
    ] {
        let p = authorize(&idme, &with(&extra)).await;
        assert_eq!(p["error"], "invalid_request", "{why}: {p:?}");
        assert!(p["error_description"].contains(why), "{p:?}");
    }
    let p = authorize(
        &idme,
        &with(&[("scope", "openid offline_access"), ("prompt", "consent")]),
    )
    .await;
    assert!(p.contains_key("code"), "{p:?}");
}

#[tokio::test]
async fn prompt_none_without_a_signed_in_user_is_login_required() {
    let idme = emulator(None).await;
    let p = authorize(&idme, &with(&[("scope", "openid"), ("prompt", "none")])).await;
    assert_eq!(p["error"], "login_required");
    assert_eq!(p["state"], "s");
}

#[tokio::test]
async fn acr_auth_time_and_scope_as_a_provider_returns_them() {
    let idme = emulator(Some(Persona::Veteran)).await;
    let scope = format!("openid {IAL2}");
    let extra = [("scope", scope.as_str()), ("acr_values", "urn:a urn:b")];
    let p = authorize(&idme, &with(&extra)).await;
    let t = exchange(&idme, &p["code"]).await;
    assert_eq!(t["scope"], scope);
    let c = claims(t["id_token"].as_str().unwrap());
    assert_eq!(c["acr"], "urn:a");
    assert!(c["auth_time"].as_i64().unwrap() + 60 >= c["iat"].as_i64().unwrap());

    idme.set_faults([Fault::WrongAcr, Fault::StaleAuthTime, Fault::NarrowScope]);
    let p = authorize(&idme, &with(&extra)).await;
    let t = exchange(&idme, &p["code"]).await;
    assert_eq!(t["scope"], "openid");
    let c = claims(t["id_token"].as_str().unwrap());
    assert_ne!(c["acr"], "urn:a");
    assert!(c["auth_time"].as_i64().unwrap() + 3600 < c["iat"].as_i64().unwrap());

    idme.set_faults([Fault::OmitAuthTime, Fault::OmitScope]);
    let p = authorize(&idme, &with(&extra)).await;
    let t = exchange(&idme, &p["code"]).await;
    assert!(t.get("scope").is_none(), "{t}");
    assert!(
        claims(t["id_token"].as_str().unwrap())
            .get("auth_time")
            .is_none()
    );
}

#[tokio::test]
async fn bare_token_response_type_returns_an_access_token_only() {
    let idme = emulator(Some(Persona::Veteran)).await;
    let p = authorize(
        &idme,
        &[
            ("response_type", "token"),
            ("scope", "military"),
            ("state", "s"),
        ],
    )
    .await;
    assert!(!p["access_token"].is_empty(), "{p:?}");
    assert_eq!(p["token_type"].to_ascii_lowercase(), "bearer");
    assert!(p["expires_in"].parse::<u64>().unwrap() > 0);
    assert!(!p.contains_key("id_token") && !p.contains_key("code"));
    let p = authorize(
        &idme,
        &[
            ("response_type", "token"),
            ("scope", "military"),
            ("response_mode", "query"),
        ],
    )
    .await;
    assert_eq!(p["error"], "invalid_request", "{p:?}");
}
