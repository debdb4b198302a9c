//! The code + PKCE relay for native and mobile apps (RFC 6749 §4.1, RFC 7636, RFC 8252,
//! RFC 9207) in memory: redirect URI rules, PKCE, single use and expiry of the code. The
//! consent page itself is `apps_consent.rs`'s; here the person allows it.

use super::common;

use std::time::Duration;

use common::apps::*;
use idme_core::Reply;
use idme_testkit::pair::{Browser, Pair};

const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// `BASE64URL(SHA256(VERIFIER))`, computed independently.
const CHALLENGE: &str = "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc";
const LOOPBACK: &str = "http://127.0.0.1:51234/callback";

fn query(overrides: &[(&str, Option<&str>)]) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", NATIVE),
        ("redirect_uri", LOOPBACK),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "st4te"),
    ];
    for (k, v) in overrides {
        pairs.retain(|(name, _)| name != k);
        if let Some(v) = v {
            pairs.push((k, v));
        }
    }
    form(&pairs)
}

/// The request `query`, allowed by the person on its consent page.
async fn allowed(pair: &Pair, browser: &mut Browser, query: &str) -> Reply {
    let page = authorize(pair, browser, query).await;
    consent(pair, browser, &page, "allow").await
}

fn redirect_params(reply: &Reply) -> (String, Vec<(String, String)>) {
    assert_eq!(reply.status, 303, "{}", reply.body);
    let to = url::Url::parse(reply.header("location").unwrap()).unwrap();
    let pairs = to.query_pairs().into_owned().collect();
    let mut base = to.clone();
    base.set_query(None);
    (base.to_string(), pairs)
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn exchange(
    pair: &Pair,
    client: &str,
    code: &str,
    redirect: &str,
    verifier: Option<&str>,
) -> Reply {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("client_id", client),
    ];
    fields.extend(verifier.map(|v| ("code_verifier", v)));
    post(pair, Route::Token, &form(&fields)).await
}

async fn code_for(pair: &Pair, browser: &mut Browser, redirect: &str) -> String {
    let reply = allowed(pair, browser, &query(&[("redirect_uri", Some(redirect))])).await;
    let (base, pairs) = redirect_params(&reply);
    assert_eq!(base, redirect);
    get(&pairs, "code").expect("a code").to_owned()
}

#[tokio::test]
async fn a_bad_client_or_redirect_uri_gets_a_page_never_a_redirect() {
    let pair = rig().await;
    let mut browser = pair.sign_in().await;
    for q in [
        query(&[("client_id", Some("stranger"))]),
        query(&[("client_id", None)]),
        query(&[("redirect_uri", None)]),
        query(&[("redirect_uri", Some("http://localhost:51234/callback"))]),
        query(&[("redirect_uri", Some("https://evil.example/callback"))]),
        query(&[("redirect_uri", Some("com.evil.app:/callback"))]),
        query(&[("redirect_uri", Some("http://127.0.0.1:51234/cb#x"))]),
        // A registered scheme of another client is not this one's.
        query(&[
            ("client_id", Some(DEVICE)),
            ("redirect_uri", Some(NATIVE_REDIRECT)),
        ]),
        // Loopback only where registered: a device client has no redirect at all, and a
        // registered loopback URI fixes the address and the path.
        query(&[("client_id", Some(DEVICE))]),
        query(&[("redirect_uri", Some("http://127.0.0.1:51234/other"))]),
        query(&[("redirect_uri", Some("http://127.0.0.1:51234/callback?x=1"))]),
    ] {
        let reply = authorize(&pair, &mut browser, &q).await;
        assert_eq!(reply.status, 400, "{q}");
        assert!(reply.header("location").is_none(), "{q}");
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
    }
}

#[tokio::test]
async fn other_errors_go_back_to_the_app_with_state_and_iss() {
    let pair = rig().await;
    let mut browser = pair.sign_in().await;
    for (q, expected) in [
        (query(&[("code_challenge", None)]), "invalid_request"),
        (
            query(&[("code_challenge_method", Some("plain"))]),
            "invalid_request",
        ),
        (query(&[("code_challenge_method", None)]), "invalid_request"),
        (
            query(&[("code_challenge", Some("short"))]),
            "invalid_request",
        ),
        (
            query(&[("response_type", Some("token"))]),
            "unsupported_response_type",
        ),
        (query(&[("scope", Some("openid wizard"))]), "invalid_scope"),
    ] {
        let (base, pairs) = redirect_params(&authorize(&pair, &mut browser, &q).await);
        assert_eq!(base, LOOPBACK);
        assert_eq!(get(&pairs, "error"), Some(expected), "{q}");
        assert_eq!(get(&pairs, "state"), Some("st4te"));
        assert_eq!(get(&pairs, "iss"), Some("https://app.example"));
        assert_eq!(get(&pairs, "code"), None);
    }
}

#[tokio::test]
async fn signed_out_goes_through_login_then_the_code_comes_back_with_state_and_iss() {
    let pair = rig().await;
    let q = query(&[]);
    let mut anonymous = Browser::default();
    let reply = authorize(&pair, &mut anonymous, &q).await;
    assert_eq!(reply.status, 303);
    let login = reply.header("location").unwrap();
    assert!(
        login.starts_with("/auth/login?return_to=%2Fauth%2Fauthorize%3F"),
        "{login}"
    );

    let mut browser = pair.sign_in().await;
    for redirect in [
        LOOPBACK,
        "http://127.0.0.1:8/callback",
        "http://[::1]:60000/callback",
        NATIVE_REDIRECT,
    ] {
        let reply = allowed(
            &pair,
            &mut browser,
            &query(&[("redirect_uri", Some(redirect))]),
        )
        .await;
        let (base, pairs) = redirect_params(&reply);
        assert_eq!(base, redirect);
        assert_eq!(get(&pairs, "state"), Some("st4te"));
        assert_eq!(get(&pairs, "iss"), Some("https://app.example"));
        let code = get(&pairs, "code").unwrap();
        let tokens = exchange(&pair, NATIVE, code, redirect, Some(VERIFIER)).await;
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        let tokens = json(&tokens);
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["expires_in"], 600);
        assert!(tokens.get("scope").is_none(), "no policies asked: {tokens}");
        let user = bearer(&pair, tokens["access_token"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(user.sub(), idme_testkit::Persona::Veteran.sub());
    }
}

#[tokio::test]
async fn pkce_is_required_and_checked_and_the_code_is_single_use_and_short_lived() {
    let pair = rig().await;
    let mut browser = pair.sign_in().await;
    // Missing verifier: invalid_request.
    let code = code_for(&pair, &mut browser, LOOPBACK).await;
    assert_eq!(
        error(&exchange(&pair, NATIVE, &code, LOOPBACK, None).await),
        (400, "invalid_request".into())
    );
    // Wrong verifier: invalid_grant, and the code is burnt.
    let wrong = "x".repeat(43);
    assert_eq!(
        error(&exchange(&pair, NATIVE, &code, LOOPBACK, Some(&wrong)).await),
        (400, "invalid_grant".into())
    );
    assert_eq!(
        error(&exchange(&pair, NATIVE, &code, LOOPBACK, Some(VERIFIER)).await),
        (400, "invalid_grant".into())
    );
    // Another redirect URI, another client.
    let code = code_for(&pair, &mut browser, LOOPBACK).await;
    let other = "http://127.0.0.1:51235/callback";
    assert_eq!(
        error(&exchange(&pair, NATIVE, &code, other, Some(VERIFIER)).await),
        (400, "invalid_grant".into())
    );
    let code = code_for(&pair, &mut browser, LOOPBACK).await;
    assert_eq!(
        error(&exchange(&pair, DEVICE, &code, LOOPBACK, Some(VERIFIER)).await),
        (400, "invalid_grant".into())
    );
    // Used twice.
    let code = code_for(&pair, &mut browser, LOOPBACK).await;
    assert_eq!(
        exchange(&pair, NATIVE, &code, LOOPBACK, Some(VERIFIER))
            .await
            .status,
        200
    );
    assert_eq!(
        error(&exchange(&pair, NATIVE, &code, LOOPBACK, Some(VERIFIER)).await),
        (400, "invalid_grant".into())
    );
    // 60 s.
    let code = code_for(&pair, &mut browser, LOOPBACK).await;
    pair.advance(Duration::from_secs(61));
    assert_eq!(
        error(&exchange(&pair, NATIVE, &code, LOOPBACK, Some(VERIFIER)).await),
        (400, "invalid_grant".into())
    );
    let code = code_for(&pair, &mut browser, LOOPBACK).await;
    pair.advance(Duration::from_secs(59));
    assert_eq!(
        exchange(&pair, NATIVE, &code, LOOPBACK, Some(VERIFIER))
            .await
            .status,
        200
    );
    // Unknown code, unregistered client.
    assert_eq!(
        error(&exchange(&pair, NATIVE, "nope", LOOPBACK, Some(VERIFIER)).await),
        (400, "invalid_grant".into())
    );
    assert_eq!(
        error(&exchange(&pair, "stranger", "nope", LOOPBACK, Some(VERIFIER)).await),
        (401, "invalid_client".into())
    );
}

#[tokio::test]
async fn an_unverified_person_asked_for_a_policy_is_sent_to_verify() {
    let pair = rig_as(idme_testkit::Persona::Unverified, |b| b).await;
    let mut browser = pair.sign_in().await;
    let q = query(&[("scope", Some("military"))]);
    let reply = authorize(&pair, &mut browser, &q).await;
    assert_eq!(reply.status, 303);
    let expected = pair.idme.verify_url_for(
        &idme_core::Policy::Military,
        &format!("/auth/authorize?{q}&verification_tried=1"),
    );
    assert_eq!(reply.header("location"), Some(expected.as_str()));
}

#[tokio::test]
async fn a_person_back_from_verification_still_unverified_goes_back_to_the_app_denied() {
    let pair = rig_as(idme_testkit::Persona::Unverified, |b| b).await;
    let mut browser = pair.sign_in().await;
    let q = query(&[("scope", Some("military"))]);
    let mut reply = authorize(&pair, &mut browser, &q).await;
    let mut rounds = 0;
    while reply.status == 303 && location(&reply).starts_with("/auth/login") && rounds < 5 {
        rounds += 1;
        let (back, callback) = go_verify(&pair, browser, &location(&reply)).await;
        browser = back;
        let to = location(&callback);
        let (path, query) = to.split_once('?').unwrap_or((&to, ""));
        assert_eq!(path, "/auth/authorize", "{to}");
        reply = authorize(&pair, &mut browser, query).await;
    }
    assert_eq!(rounds, 1, "sent to verify once, not round and round");
    assert_eq!(reply.status, 303, "{}", reply.body);
    let to = url::Url::parse(&location(&reply)).unwrap();
    let param = |name: &str| {
        to.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(to.as_str().split('?').next(), Some(LOOPBACK));
    assert_eq!(param("error").as_deref(), Some("access_denied"));
    assert_eq!(param("state").as_deref(), Some("st4te"));
    assert!(param("code").is_none());
    assert!(param("iss").is_some());
}

#[tokio::test]
async fn a_request_too_long_to_come_back_to_after_sign_in_is_refused_to_the_app() {
    // The login keeps where to come back only up to its `return_to` limit: a longer
    // request would land the person on `/` and leave the app waiting.
    let pair = rig().await;
    let long = "s".repeat(2100);
    for mut browser in [Browser::default(), pair.sign_in().await] {
        let q = query(&[("state", Some(&long))]);
        let (base, pairs) = redirect_params(&authorize(&pair, &mut browser, &q).await);
        assert_eq!(base, LOOPBACK);
        assert_eq!(get(&pairs, "error"), Some("invalid_request"));
        assert!(get(&pairs, "code").is_none());
    }
}

#[tokio::test]
async fn a_code_used_twice_revokes_the_tokens_it_gave() {
    // RFC 6749 §4.1.2, RFC 9700 §4.5.3.1: a second use means someone else holds the
    // code, so the tokens of the first use are revoked as well.
    let pair = rig().await;
    let mut browser = pair.sign_in().await;
    let code = code_for(&pair, &mut browser, LOOPBACK).await;
    let tokens = exchange(&pair, NATIVE, &code, LOOPBACK, Some(VERIFIER)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let tokens = json(&tokens);
    let access = tokens["access_token"].as_str().unwrap();
    assert!(bearer(&pair, access).await.is_ok());
    assert_eq!(
        error(&exchange(&pair, NATIVE, &code, LOOPBACK, Some(VERIFIER)).await),
        (400, "invalid_grant".into())
    );
    assert_invalid_token(&bearer(&pair, access).await.unwrap_err());
    let refreshed = refresh(&pair, NATIVE, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(error(&refreshed), (400, "invalid_grant".into()));
}
