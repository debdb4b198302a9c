//! The ID token checks, one rule at a time.

use openidconnect::{AccessToken, AccessTokenHash};
use serde_json::{Value, json};

use super::id_token::*;
use super::jws::{self, Alg};
use crate::error::ProviderMisbehaved;

const NOW: u64 = 1_800_000_000;
const SECRET: &[u8] = b"unit-test-secret";
const HS256: Alg = Alg::HmacSha256;

/// The claims signed with HS256 under [`SECRET`].
fn token(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn half_hash(value: &str) -> String {
    AccessTokenHash::from_token(
        &AccessToken::new(value.into()),
        &HS256,
        &jws::hmac_key(SECRET),
    )
    .unwrap()
    .as_str()
    .to_owned()
}

fn check(token: &str, e: &Expectations<'_>) -> Result<String, ProviderMisbehaved> {
    verify(token, &jws::hmac_key(SECRET), &HS256, e).map(|v| v.sub)
}

fn good() -> Value {
    json!({"iss":"https://iss","aud":"cid","sub":"u1","exp":NOW+300,"iat":NOW,"nonce":"n1",
           "c_hash": half_hash("code1"),
           "at_hash": half_hash("at1")})
}

fn expect() -> Expectations<'static> {
    Expectations {
        issuer: "https://iss",
        client_id: "cid",
        hmac_secret: Some(SECRET),
        allowed: &[HS256],
        nonce: Some("n1"),
        nonce_may_be_absent: false,
        code: Some("code1"),
        c_hash_required: true,
        access_token: Some("at1"),
        at_hash_required: true,
        sub: None,
        max_age: None,
        acr_values: None,
        acr_required: false,
        now: NOW,
        skew: 60,
    }
}

fn with(key: &str, v: Value) -> String {
    let mut c = good();
    if v.is_null() {
        c.as_object_mut().unwrap().remove(key);
    } else {
        c[key] = v;
    }
    token(c)
}

#[test]
fn accepts_a_good_token() {
    assert_eq!(check(&token(good()), &expect()).unwrap(), "u1");
}

#[test]
fn each_rule_rejects() {
    use ProviderMisbehaved as P;
    let e = expect();
    let cases: Vec<(String, P)> = vec![
        (with("iss", json!("https://evil")), P::IssuerMismatch),
        (with("iss", Value::Null), P::IssuerMismatch),
        (with("iss", json!("https://iss/")), P::IssuerMismatch),
        (with("iss", json!(5)), P::IssuerMismatch),
        (with("aud", Value::Null), P::MissingClaim("aud")),
        (with("aud", json!("other")), P::AudienceMismatch),
        (with("aud", json!(["cid", "other"])), P::AzpMismatch),
        (with("azp", json!("other")), P::AzpMismatch),
        (with("exp", json!(NOW - 61)), P::Expired),
        (with("exp", Value::Null), P::MissingClaim("exp")),
        (with("iat", json!(NOW + 61)), P::IssuedInFuture),
        (with("iat", Value::Null), P::MissingClaim("iat")),
        (with("nbf", json!(NOW + 3600)), P::IssuedInFuture),
        (with("sub", Value::Null), P::MissingClaim("sub")),
        (with("nonce", Value::Null), P::MissingNonce),
        (with("nonce", json!("n2")), P::NonceMismatch),
        (with("c_hash", Value::Null), P::MissingCHash),
        (
            with("c_hash", json!("AAAAAAAAAAAAAAAAAAAAAA")),
            P::CHashMismatch,
        ),
        (with("at_hash", Value::Null), P::MissingAtHash),
        (
            with("at_hash", json!("AAAAAAAAAAAAAAAAAAAAAA")),
            P::AtHashMismatch,
        ),
    ];
    for (t, want) in cases {
        assert_eq!(check(&t, &e), Err(want.clone()), "{want:?}");
    }
}

#[test]
fn the_allow_list_and_the_secret_are_the_verifiers_too() {
    let mut e = expect();
    e.allowed = &[Alg::RsaSsaPkcs1V15Sha256];
    assert!(matches!(
        check(&token(good()), &e),
        Err(ProviderMisbehaved::DisallowedAlgorithm(_))
    ));
    let mut e = expect();
    e.hmac_secret = None;
    assert!(matches!(
        check(&token(good()), &e),
        Err(ProviderMisbehaved::DisallowedAlgorithm(_))
    ));
    let mut e = expect();
    e.hmac_secret = Some(b"another secret");
    assert_eq!(
        check(&token(good()), &e),
        Err(ProviderMisbehaved::BadSignature)
    );
}

#[test]
fn skew_is_honoured() {
    let e = expect();
    assert!(check(&with("exp", json!(NOW - 59)), &e).is_ok());
    assert!(check(&with("iat", json!(NOW + 59)), &e).is_ok());
}

#[test]
fn optional_hashes_are_still_checked_when_present() {
    let mut e = expect();
    e.c_hash_required = false;
    e.at_hash_required = false;
    assert!(check(&with("at_hash", Value::Null), &e).is_ok());
    assert_eq!(
        check(&with("at_hash", json!("AAAAAAAAAAAAAAAAAAAAAA")), &e),
        Err(ProviderMisbehaved::AtHashMismatch)
    );
}

#[test]
fn sub_must_match_earlier_token() {
    let mut e = expect();
    e.sub = Some("u2");
    assert_eq!(
        check(&token(good()), &e),
        Err(ProviderMisbehaved::SubMismatchInTokenResponse)
    );
}

#[test]
fn max_age_requires_a_recent_auth_time() {
    let mut e = expect();
    e.max_age = Some(300);
    assert_eq!(
        check(&token(good()), &e),
        Err(ProviderMisbehaved::MissingClaim("auth_time"))
    );
    assert_eq!(
        check(&with("auth_time", json!(NOW - 300 - 61)), &e),
        Err(ProviderMisbehaved::AuthTimeTooOld)
    );
    assert_eq!(
        check(&with("auth_time", json!("yesterday")), &e),
        Err(ProviderMisbehaved::MissingClaim("auth_time"))
    );
    assert!(check(&with("auth_time", json!(NOW - 300 - 59)), &e).is_ok());
    // Without max_age, auth_time is neither required nor bounded.
    e.max_age = None;
    assert!(check(&with("auth_time", json!(NOW - 86_400)), &e).is_ok());
}

#[test]
fn acr_must_be_one_of_the_requested_values() {
    let mut e = expect();
    e.acr_values = Some("urn:a urn:b");
    assert_eq!(
        check(&with("acr", json!("urn:c")), &e),
        Err(ProviderMisbehaved::AcrNotRequested)
    );
    assert_eq!(
        check(&with("acr", json!(3)), &e),
        Err(ProviderMisbehaved::AcrNotRequested)
    );
    assert!(check(&with("acr", json!("urn:b")), &e).is_ok());
    // An absent acr is not a claim of another level, unless this login asked for one.
    assert!(check(&token(good()), &e).is_ok());
    e.acr_required = true;
    assert_eq!(
        check(&token(good()), &e),
        Err(ProviderMisbehaved::MissingClaim("acr"))
    );
    // Without acr_values, any acr is accepted.
    (e.acr_values, e.acr_required) = (None, false);
    assert!(check(&with("acr", json!("urn:c")), &e).is_ok());
}

#[test]
fn refresh_tokens_may_omit_nonce() {
    let mut e = expect();
    e.nonce_may_be_absent = true;
    assert!(check(&with("nonce", Value::Null), &e).is_ok());
    assert_eq!(
        check(&with("nonce", json!("n2")), &e),
        Err(ProviderMisbehaved::NonceMismatch)
    );
}
