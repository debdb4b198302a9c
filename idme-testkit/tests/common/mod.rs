//! What the emulator tests share: a started emulator, a client that does not follow
//! redirects, and the steps of a code flow.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idme_testkit::{Emulator, EmulatorConfig, Persona};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const REDIRECT: &str = "http://127.0.0.1:1/auth/callback";
pub const VERIFIER: &str = "a-pkce-code-verifier-that-is-long-enough-0123456789";

pub type Params = HashMap<String, String>;

pub async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        redirect_uris: vec![REDIRECT.into()],
        ..config
    })
    .await
    .expect("emulator starts")
}

pub async fn start_auto(persona: Persona) -> Emulator {
    start(EmulatorConfig {
        auto_user: Some(persona),
        ..Default::default()
    })
    .await
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub fn half_hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(value.as_bytes())[..16])
}

/// Sends an authorization request with the standard client parameters plus `extra`.
pub async fn authorize(idme: &Emulator, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut query = vec![("client_id", idme.client_id()), ("redirect_uri", REDIRECT)];
    query.extend_from_slice(extra);
    http()
        .get(format!("{}/oauth/authorize", idme.base_url()))
        .query(&query)
        .send()
        .await
        .expect("authorize")
}

/// The parameters of a 303 authorization response, from its query or fragment.
pub fn redirect_params(response: &reqwest::Response) -> Params {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION]
        .to_str()
        .expect("ascii location");
    assert!(location.starts_with(REDIRECT), "{location}");
    let url = url::Url::parse(location).expect("location url");
    match url.fragment() {
        Some(fragment) => url::form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect(),
        None => url.query_pairs().into_owned().collect(),
    }
}

/// A code flow authorization with PKCE; returns the redirect parameters.
pub async fn code_authorization(idme: &Emulator) -> Params {
    let challenge = s256(VERIFIER);
    let response = authorize(
        idme,
        &[
            ("response_type", "code"),
            ("scope", "openid military"),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    redirect_params(&response)
}

pub async fn token_request(
    idme: &Emulator,
    form: &[(&str, &str)],
    basic: bool,
) -> (StatusCode, Value) {
    let mut request = http()
        .post(format!("{}/oauth/token", idme.base_url()))
        .form(form);
    if basic {
        request = request.basic_auth(idme.client_id(), Some(idme.client_secret()));
    }
    let response = request.send().await.expect("token");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let status = response.status();
    (status, response.json().await.expect("json token response"))
}

pub async fn exchange(idme: &Emulator, code: &str, verifier: &str) -> (StatusCode, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    token_request(idme, &form, true).await
}

pub async fn jwks(idme: &Emulator) -> Value {
    let url = format!("{}/oidc/.well-known/jwks", idme.base_url());
    http()
        .get(url)
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwks json")
}

/// Verifies an RS256 JWT against the emulator's JWKS and returns its claims.
pub async fn verify(idme: &Emulator, jwt: &str) -> Value {
    let header = jsonwebtoken::decode_header(jwt).expect("jose header");
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("kid");
    let keys = jwks(idme).await;
    let jwk = keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid published");
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("rsa key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[idme.client_id()]);
    validation.set_issuer(&[idme.issuer()]);
    jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .expect("valid signature and claims")
        .claims
}

pub async fn userinfo(idme: &Emulator, access_token: &str) -> (StatusCode, String) {
    let url = format!("{}/api/public/v3/userinfo", idme.base_url());
    let response = http()
        .get(url)
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo");
    (response.status(), response.text().await.expect("body"))
}
