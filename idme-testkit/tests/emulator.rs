//! End-to-end tests of the emulator over loopback HTTP.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idme_testkit::{Emulator, EmulatorConfig, Fault, Persona};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "http://127.0.0.1:1/auth/callback";
const VERIFIER: &str = "a-pkce-code-verifier-that-is-long-enough-0123456789";

type Params = HashMap<String, String>;

async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        redirect_uris: vec![REDIRECT.into()],
        ..config
    })
    .await
    .expect("emulator starts")
}

async fn start_auto(persona: Persona) -> Emulator {
    start(EmulatorConfig {
        auto_user: Some(persona),
        ..Default::default()
    })
    .await
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn half_hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(value.as_bytes())[..16])
}

/// Sends an authorization request with the standard client parameters plus `extra`.
async fn authorize(idme: &Emulator, extra: &[(&str, &str)]) -> reqwest::Response {
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
fn redirect_params(response: &reqwest::Response) -> Params {
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
async fn code_authorization(idme: &Emulator) -> Params {
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

async fn token_request(idme: &Emulator, form: &[(&str, &str)], basic: bool) -> (StatusCode, Value) {
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

async fn exchange(idme: &Emulator, code: &str, verifier: &str) -> (StatusCode, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    token_request(idme, &form, true).await
}

async fn jwks(idme: &Emulator) -> Value {
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
async fn verify(idme: &Emulator, jwt: &str) -> Value {
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

async fn userinfo(idme: &Emulator, access_token: &str) -> (StatusCode, String) {
    let url = format!("{}/api/public/v3/userinfo", idme.base_url());
    let response = http()
        .get(url)
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo");
    (response.status(), response.text().await.expect("body"))
}

#[tokio::test]
async fn discovery_and_jwks_shapes() {
    let idme = start(EmulatorConfig::default()).await;
    let url = format!("{}/.well-known/openid-configuration", idme.issuer());
    let doc: Value = http()
        .get(url)
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let base = idme.base_url();
    assert_eq!(doc["issuer"], idme.issuer());
    assert_eq!(idme.issuer(), format!("{base}/oidc"));
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/oauth/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{base}/oauth/token"));
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{base}/api/public/v3/userinfo")
    );
    assert_eq!(doc["jwks_uri"], format!("{base}/oidc/.well-known/jwks"));
    assert_eq!(doc["end_session_endpoint"], format!("{base}/oauth/logout"));
    assert_eq!(
        doc["response_types_supported"].as_array().map(Vec::len),
        Some(7)
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);

    let keys = jwks(&idme).await;
    let key = &keys["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["use"].as_str(),
            key["alg"].as_str()
        ),
        (Some("RSA"), Some("sig"), Some("RS256"))
    );

    idme.set_faults([Fault::DiscoveryDown, Fault::JwksDown]);
    let down = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            idme.issuer()
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let down = http()
        .get(format!("{base}/oidc/.well-known/jwks"))
        .send()
        .await
        .expect("get");
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let stats = idme.stats();
    assert_eq!((stats.discovery, stats.jwks), (2, 2));

    let quirky = start(EmulatorConfig {
        jwks_quirks: true,
        advertise_iss_parameter: false,
        ..Default::default()
    })
    .await;
    let keys = jwks(&quirky).await;
    let key = &keys["keys"][0];
    assert!(key.get("alg").is_none());
    assert_eq!(key["algorithm"], "RS256");
    assert!(key["x5t"].as_str().is_some_and(|t| t.ends_with('=')));
    assert!(key["x5c"][0].as_str().is_some_and(|c| c.contains('\n')));
}

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
async fn bad_client_or_redirect_uri_never_redirects() {
    let idme = start_auto(Persona::Veteran).await;
    let url = format!("{}/oauth/authorize", idme.base_url());
    for (client_id, redirect_uri) in [
        (idme.client_id(), "http://127.0.0.1:1/evil"),
        ("nobody", REDIRECT),
    ] {
        let query = [
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", "openid"),
        ];
        let response = http()
            .get(&url)
            .query(&query)
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(LOCATION).is_none());
    }

    // Once client and redirect URI are good, errors go back on the redirect URI.
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("response_type", "code"), ("scope", "openid admiral")],
            "invalid_scope",
        ),
        (
            &[("response_type", "id_token"), ("scope", "openid")],
            "invalid_request",
        ),
        (
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("code_challenge", VERIFIER),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            &[("response_type", "code bogus"), ("scope", "openid")],
            "unsupported_response_type",
        ),
    ];
    for (extra, expected) in cases {
        let mut extra = extra.to_vec();
        extra.push(("state", "s"));
        let params = redirect_params(&authorize(&idme, &extra).await);
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(expected),
            "{extra:?}"
        );
        assert_eq!(params.get("state").map(String::as_str), Some("s"));
    }
}

#[tokio::test]
async fn hybrid_flow_c_hash_form_post_and_wrong_c_hash_fault() {
    let idme = start_auto(Persona::Teacher).await;
    let hybrid = [
        ("response_type", "id_token code"),
        ("scope", "openid teacher"),
        ("nonce", "n-h"),
        ("state", "s<&>"),
    ];
    let params = redirect_params(&authorize(&idme, &hybrid).await);
    let response = authorize(&idme, &hybrid).await;
    let location = response.headers()[LOCATION].to_str().expect("location");
    assert!(location.contains('#'), "hybrid defaults to fragment");
    let claims = verify(&idme, &params["id_token"]).await;
    assert_eq!(claims["c_hash"], half_hash(&params["code"]));
    assert_eq!(claims["nonce"], "n-h");

    idme.set_faults([Fault::WrongCHash]);
    let params = redirect_params(&authorize(&idme, &hybrid).await);
    let claims = verify(&idme, &params["id_token"]).await;
    assert!(claims["c_hash"].is_string());
    assert_ne!(claims["c_hash"], half_hash(&params["code"]));
    idme.clear_faults();

    let mut form_post = hybrid.to_vec();
    form_post.push(("response_mode", "form_post"));
    let page = authorize(&idme, &form_post).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&format!("<form method=\"post\" action=\"{REDIRECT}\">")),
        "{html}"
    );
    assert!(html.contains("document.forms[0].submit()"));
    assert!(html.contains("name=\"id_token\""));
    assert!(
        html.contains("value=\"s&lt;&amp;&gt;\""),
        "state is escaped"
    );
    assert!(html.contains("<noscript>"));
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

#[tokio::test]
async fn rotate_keys_publishes_new_and_old() {
    let idme = start_auto(Persona::Veteran).await;
    let before = jwks(&idme).await;
    let old_kid = before["keys"][0]["kid"].as_str().expect("kid").to_owned();
    assert_eq!(before["keys"].as_array().map(Vec::len), Some(1));

    idme.rotate_keys();
    let after = jwks(&idme).await;
    let kids: Vec<&str> = after["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids.len(), 2);
    assert_ne!(kids[0], old_kid);
    assert_eq!(kids[1], old_kid);

    let params = code_authorization(&idme).await;
    let (_, body) = exchange(&idme, &params["code"], VERIFIER).await;
    let id_token = body["id_token"].as_str().expect("id_token");
    assert_eq!(
        jsonwebtoken::decode_header(id_token)
            .expect("header")
            .kid
            .as_deref(),
        Some(kids[0])
    );
    verify(&idme, id_token).await;
}

#[tokio::test]
async fn token_endpoint_faults() {
    let idme = start_auto(Persona::Veteran).await;
    idme.set_faults([Fault::SlowToken(Duration::from_millis(400))]);
    let params = code_authorization(&idme).await;
    let started = Instant::now();
    let (status, _) = exchange(&idme, &params["code"], VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(400));

    idme.set_faults([Fault::TokenError {
        status: 502,
        body: "<html>bad gateway</html>".into(),
    }]);
    let response = http()
        .post(format!("{}/oauth/token", idme.base_url()))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        response.text().await.expect("body"),
        "<html>bad gateway</html>"
    );

    idme.set_faults([Fault::BadSignature]);
    let params = code_authorization(&idme).await;
    let (_, body) = exchange(&idme, &params["code"], VERIFIER).await;
    let header =
        jsonwebtoken::decode_header(body["id_token"].as_str().expect("id_token")).expect("header");
    let keys = jwks(&idme).await;
    let jwk = &keys["keys"][0];
    assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[idme.client_id()]);
    let result = jsonwebtoken::decode::<Value>(
        body["id_token"].as_str().expect("id_token"),
        &key,
        &validation,
    );
    assert!(result.is_err(), "a corrupted signature must not verify");
}

#[tokio::test]
async fn sign_in_page_persona_and_cancel() {
    let idme = start(EmulatorConfig::default()).await;
    let request = [
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "page"),
    ];
    let page = authorize(&idme, &request).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("<title>ID.me test sign-in</title>"));
    assert!(
        html.contains(
            r#"<button type="submit" name="persona" value="veteran" id="persona-veteran">"#
        )
    );
    assert!(html.contains(r#"id="cancel""#));
    let request_id = |html: &str| {
        let marker = "name=\"request_id\" value=\"";
        let start = html.find(marker).expect("request_id") + marker.len();
        html[start..].split('"').next().expect("value").to_owned()
    };
    let decide = |id: String, choice: (&'static str, &'static str)| {
        let url = format!("{}/oauth/authorize/decision", idme.base_url());
        async move {
            http()
                .post(url)
                .form(&[("request_id", id.as_str()), choice])
                .send()
                .await
                .expect("decision")
        }
    };

    let id = request_id(&html);
    let params = redirect_params(&decide(id.clone(), ("persona", "student")).await);
    assert!(params.contains_key("code"));
    assert_eq!(params.get("state").map(String::as_str), Some("page"));
    let replay = decide(id, ("persona", "student")).await;
    assert_eq!(
        replay.status(),
        StatusCode::BAD_REQUEST,
        "a pending request is answered once"
    );

    let html = authorize(&idme, &request).await.text().await.expect("html");
    let params = redirect_params(&decide(request_id(&html), ("cancel", "1")).await);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
}

#[tokio::test]
async fn logout_redirects_only_to_registered_origins() {
    let idme = start(EmulatorConfig::default()).await;
    let url = format!("{}/oauth/logout", idme.base_url());
    let home = "http://127.0.0.1:1/";
    let response = http()
        .get(&url)
        .query(&[("client_id", idme.client_id()), ("redirect_uri", home)])
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], home);

    let response = http()
        .get(&url)
        .query(&[
            ("client_id", idme.client_id()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .expect("html")
            .contains("You have been signed out of the ID.me test provider")
    );
    assert_eq!(idme.stats().logout, 2);
}

/// The JOSE header and claims of a compact JWT, without verifying anything.
fn peek(jwt: &str) -> (Value, Value, String) {
    let mut parts = jwt.split('.');
    let mut part = || {
        let raw = URL_SAFE_NO_PAD
            .decode(parts.next().expect("part"))
            .expect("base64url");
        serde_json::from_slice::<Value>(&raw).expect("json part")
    };
    let (header, claims) = (part(), part());
    (
        header,
        claims,
        jwt.rsplit('.').next().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn id_token_and_userinfo_faults_and_drop() {
    let idme = start_auto(Persona::Veteran).await;
    let implicit = [
        ("response_type", "id_token token"),
        ("scope", "openid"),
        ("nonce", "n-f"),
    ];
    let front = |faults: Vec<Fault>| {
        idme.set_faults(faults);
        let idme = idme.clone();
        async move { redirect_params(&authorize(&idme, &implicit).await) }
    };

    let params = front(vec![Fault::AlgNone, Fault::OmitIssParameter]).await;
    let (header, _, signature) = peek(&params["id_token"]);
    assert_eq!(
        (header["alg"].as_str(), signature.as_str()),
        (Some("none"), "")
    );
    assert!(!params.contains_key("iss"));

    let params = front(vec![Fault::UnknownKid, Fault::WrongIssParameter]).await;
    let (header, _, _) = peek(&params["id_token"]);
    let keys = jwks(&idme).await;
    assert!(header["kid"].is_string());
    assert!(
        keys["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .all(|k| k["kid"] != header["kid"])
    );
    assert_ne!(params.get("iss"), Some(&idme.issuer()));

    let params = front(vec![
        Fault::NoKid,
        Fault::Expired,
        Fault::WrongNonce,
        Fault::WrongAtHash,
    ])
    .await;
    let (header, claims, _) = peek(&params["id_token"]);
    assert!(header.get("kid").is_none());
    assert!(claims["exp"].as_i64() < Some(claims["iat"].as_i64().unwrap_or(0) + 3600));
    assert_ne!(claims["nonce"], "n-f");
    assert_ne!(claims["at_hash"], half_hash(&params["access_token"]));

    let params = front(vec![Fault::DoubleQuotedUserinfo, Fault::UserinfoWrongSub]).await;
    let (status, text) = userinfo(&idme, &params["access_token"]).await;
    assert_eq!(status, StatusCode::OK);
    let inner: String = serde_json::from_str(&text).expect("outer string");
    let jwt: String = serde_json::from_str(&inner).expect("inner string");
    assert_ne!(verify(&idme, &jwt).await["sub"], Persona::Veteran.sub());

    let params = front(vec![
        Fault::UserinfoWrongIssuer,
        Fault::UserinfoWrongAudience,
    ])
    .await;
    let (_, text) = userinfo(&idme, &params["access_token"]).await;
    let info = peek(&serde_json::from_str::<String>(&text).expect("string")).1;
    assert_ne!(info["iss"], idme.issuer());
    assert_ne!(info["aud"], idme.client_id());
    let params = front(vec![Fault::UserinfoOmitIssAud]).await;
    let (_, text) = userinfo(&idme, &params["access_token"]).await;
    let info = peek(&serde_json::from_str::<String>(&text).expect("string")).1;
    assert!(
        info.get("iss").is_none() && info.get("aud").is_none(),
        "{info}"
    );

    let params = front(vec![Fault::PlainJsonUserinfo, Fault::TokenSubMismatch]).await;
    let (_, text) = userinfo(&idme, &params["access_token"]).await;
    let plain: Value = serde_json::from_str(&text).expect("plain json");
    assert_eq!(plain["uuid"], Persona::Veteran.sub());
    assert_eq!(
        peek(&params["id_token"]).1["sub"],
        Persona::Veteran.sub(),
        "front channel keeps the real sub"
    );
    let params = code_authorization(&idme).await;
    let (_, body) = exchange(&idme, &params["code"], VERIFIER).await;
    assert_ne!(
        peek(body["id_token"].as_str().expect("id_token")).1["sub"],
        Persona::Veteran.sub()
    );

    // The server stops once the last handle is gone.
    let addr = idme.local_addr();
    drop(idme);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
