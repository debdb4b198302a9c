//! Native-app clients (RFC 8252): a loopback redirect URI registered without a port takes
//! any port, and a public client (no secret) must use PKCE S256.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idme_testkit::{Emulator, EmulatorConfig, Persona};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use sha2::{Digest, Sha256};

const VERIFIER: &str = "a-pkce-code-verifier-that-is-long-enough-0123456789";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn start(registered: &str, public_client: bool) -> Emulator {
    Emulator::start(EmulatorConfig {
        redirect_uris: vec![registered.into()],
        auto_user: Some(Persona::Veteran),
        public_client,
        ..Default::default()
    })
    .await
    .expect("emulator starts")
}

async fn authorize(idme: &Emulator, redirect: &str, pkce: bool) -> reqwest::Response {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let mut query = vec![
        ("client_id", idme.client_id().to_owned()),
        ("redirect_uri", redirect.to_owned()),
        ("response_type", "code".into()),
        ("scope", "openid".into()),
        ("state", "st".into()),
        ("nonce", "no".into()),
    ];
    if pkce {
        query.push(("code_challenge", challenge));
        query.push(("code_challenge_method", "S256".into()));
    }
    http()
        .get(format!("{}/oauth/authorize", idme.base_url()))
        .query(&query)
        .send()
        .await
        .expect("authorize")
}

/// The query of the redirect, which must go to `redirect`.
fn redirected(response: &reqwest::Response, redirect: &str) -> HashMap<String, String> {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with(&format!("{redirect}?")), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn token(
    idme: &Emulator,
    form: &[(&str, &str)],
    secret: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut req = http().post(format!("{}/oauth/token", idme.base_url()));
    if let Some(secret) = secret {
        req = req.basic_auth(idme.client_id(), Some(secret));
    }
    let response = req.form(form).send().await.expect("token");
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_loopback_redirect_registered_without_port_takes_any_port() {
    let idme = start("http://127.0.0.1/callback", false).await;
    let actual = "http://127.0.0.1:49321/callback";
    let params = redirected(&authorize(&idme, actual, true).await, actual);
    let code = &params["code"];
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", actual),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = token(&idme, &form, Some(idme.client_secret())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["id_token"].is_string());
}

#[tokio::test]
async fn only_the_port_of_a_loopback_ip_literal_varies() {
    let idme = start("http://127.0.0.1/callback", false).await;
    for wrong in [
        "http://127.0.0.1:49321/other",
        "http://127.0.0.2:49321/callback",
        "http://localhost:49321/callback",
        "https://127.0.0.1:49321/callback",
        "http://127.0.0.1:49321/callback?x=1",
    ] {
        let response = authorize(&idme, wrong, true).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{wrong}");
        assert!(response.headers().get(LOCATION).is_none(), "{wrong}");
    }
    // A name registered without a port is still matched exactly.
    let named = start("http://localhost/callback", false).await;
    let response = authorize(&named, "http://localhost:49321/callback", true).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // So is a loopback redirect registered with a port.
    let fixed = start("http://127.0.0.1:8000/callback", false).await;
    let response = authorize(&fixed, "http://127.0.0.1:8001/callback", true).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_public_client_must_use_pkce_and_no_secret() {
    let redirect = "http://127.0.0.1:40000/callback";
    let idme = start("http://127.0.0.1/callback", true).await;

    // Without PKCE: refused at the authorization endpoint.
    let params = redirected(&authorize(&idme, redirect, false).await, redirect);
    assert_eq!(params["error"], "invalid_request");
    assert!(params["error_description"].contains("PKCE"), "{params:?}");

    // With PKCE: the code is exchanged with the verifier and the client id alone.
    let params = redirected(&authorize(&idme, redirect, true).await, redirect);
    let code = params["code"].clone();
    let client_id = idme.client_id().to_owned();
    let without_verifier = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("client_id", client_id.as_str()),
    ];
    let (status, body) = token(&idme, &without_verifier, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");

    let params = redirected(&authorize(&idme, redirect, true).await, redirect);
    let code = params["code"].clone();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", VERIFIER),
    ];
    let (status, _) = token(&idme, &form, None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the client id is required"
    );
    form.push(("client_id", client_id.as_str()));
    let (status, _) = token(&idme, &form, Some("any-secret")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a public client has no secret"
    );
    let (status, body) = token(&idme, &form, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string());
}
