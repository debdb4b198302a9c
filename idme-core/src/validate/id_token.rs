//! ID token verification (OIDC Core §3.1.3.7, §3.2.2.11, §3.3.2.12) through
//! `openidconnect`'s ID-token verifier: signature and algorithm allow-list, `iss`, `aud`,
//! `exp`, `iat`, `nonce`, `acr` and `auth_time` (our rules, as its hooks), with its hash
//! helpers for `c_hash`/`at_hash`. What it cannot express stays here, each marked.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use openidconnect::core::CoreIdToken;
use openidconnect::{
    AccessToken, AccessTokenHash, AuthorizationCode, AuthorizationCodeHash,
    ClaimsVerificationError, ClientId, ClientSecret, IdTokenVerifier, IssuerUrl, JsonWebKeySet,
    Nonce,
};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::jws::{self, Alg};
use super::verifying_key::VerifyingKey;
use crate::error::ProviderMisbehaved;

/// What an ID token must match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expectations<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) client_id: &'a str,
    /// The client secret, when HMAC-signed tokens are allowed.
    pub(crate) hmac_secret: Option<&'a [u8]>,
    /// The algorithms allowed.
    pub(crate) allowed: &'a [Alg],
    /// The nonce sent; the token must carry it (except on refresh, where it may be absent).
    pub(crate) nonce: Option<&'a str>,
    pub(crate) nonce_may_be_absent: bool,
    /// The authorization code returned beside this token (front channel), for `c_hash`.
    pub(crate) code: Option<&'a str>,
    pub(crate) c_hash_required: bool,
    /// The access token returned beside this token, for `at_hash`.
    pub(crate) access_token: Option<&'a str>,
    pub(crate) at_hash_required: bool,
    /// The subject an earlier ID token of the same login named.
    pub(crate) sub: Option<&'a str>,
    /// The `max_age` sent: `auth_time` is then required and must be recent enough.
    pub(crate) max_age: Option<u64>,
    /// The `acr_values` sent (space-separated): a returned `acr` must be one of them.
    pub(crate) acr_values: Option<&'a str>,
    /// Unix seconds.
    pub(crate) now: u64,
    pub(crate) skew: u64,
}

/// A verified ID token: its subject and all its claims (for the session).
#[derive(Debug, Clone)]
pub(crate) struct VerifiedIdToken {
    pub(crate) sub: String,
    pub(crate) claims: Map<String, Value>,
}

fn time(secs: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0).unwrap_or_default()
}

fn secs(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

/// The precise reason one of our hooks refused, since `openidconnect` reports a hook's
/// refusal under a coarser error (a future `iat` as `Expired`, …).
struct Reason(Mutex<Option<ProviderMisbehaved>>);

impl Reason {
    fn refuse(&self, why: ProviderMisbehaved) -> Result<(), String> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(why);
        Err(String::new())
    }

    fn take(&self) -> Option<ProviderMisbehaved> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Verifies `token` with `key` (chosen by [`jws::verify_with_keys`]) at `e.now`.
pub(crate) fn verify(
    token: &str,
    key: &VerifyingKey,
    alg: &Alg,
    e: &Expectations<'_>,
) -> Result<VerifiedIdToken, ProviderMisbehaved> {
    let claims = jws::unverified_claims(token)?;
    // openidconnect's claim types refuse a token missing a required claim as unparseable;
    // this names the claim, as before.
    let id_token: CoreIdToken = token.parse().map_err(|_| unparseable(&claims))?;
    let issuer =
        IssuerUrl::new(e.issuer.to_owned()).map_err(|_| ProviderMisbehaved::IssuerMismatch)?;
    let client_id = ClientId::new(e.client_id.to_owned());
    let keys = JsonWebKeySet::new(vec![key.clone()]);
    let verifier = match e.hmac_secret.filter(|_| jws::is_hmac(alg)) {
        Some(secret) => IdTokenVerifier::new_confidential_client(
            client_id,
            ClientSecret::new(String::from_utf8_lossy(secret).into_owned()),
            issuer,
            keys,
        ),
        None => IdTokenVerifier::new_public_client(client_id, issuer, keys),
    };
    let reason = Reason(Mutex::new(None));
    let (now, skew) = (e.now, e.skew);
    let verifier = verifier
        .set_allowed_algs(e.allowed.iter().cloned())
        // We accepted any `typ` before; the signature is what counts.
        .allow_all_jose_types()
        // Other audiences are judged by `azp` below (openidconnect leaves `azp` unchecked).
        .set_other_audience_verifier_fn(|_| true)
        // Skew: `exp` is compared with the time `skew` seconds ago.
        .set_time_fn(move || time(now.saturating_sub(skew)))
        // openidconnect accepts any `iat` by default; one in the future is refused.
        .set_issue_time_verifier_fn(|iat| {
            if secs(iat) > now.saturating_add(skew) {
                return reason.refuse(ProviderMisbehaved::IssuedInFuture);
            }
            Ok(())
        })
        // OIDC Core §3.1.2.1: with max_age sent, auth_time is required and bounds the age
        // of the sign-in at the provider.
        .set_auth_time_verifier_fn(|auth_time| match (e.max_age, auth_time) {
            (None, _) => Ok(()),
            (Some(_), None) => reason.refuse(ProviderMisbehaved::MissingClaim("auth_time")),
            (Some(max_age), Some(t)) => {
                if secs(t).saturating_add(max_age).saturating_add(skew) < now {
                    return reason.refuse(ProviderMisbehaved::AuthTimeTooOld);
                }
                Ok(())
            }
        })
        // A returned acr must be one of the acr_values sent (a downgrade otherwise).
        .set_auth_context_verifier_fn(|acr| match (e.acr_values, acr) {
            (Some(requested), Some(acr))
                if !requested.split_whitespace().any(|r| r == acr.as_str()) =>
            {
                reason.refuse(ProviderMisbehaved::AcrNotRequested)
            }
            _ => Ok(()),
        });
    // Our nonce rule: compared in constant time; absent only where `nonce_may_be_absent`.
    let nonce_rule = |got: Option<&Nonce>| match (e.nonce, got) {
        (Some(expected), Some(got))
            if !bool::from(expected.as_bytes().ct_eq(got.secret().as_bytes())) =>
        {
            reason.refuse(ProviderMisbehaved::NonceMismatch)
        }
        (Some(_), None) if !e.nonce_may_be_absent => {
            reason.refuse(ProviderMisbehaved::MissingNonce)
        }
        _ => Ok(()),
    };
    let verified = id_token
        .claims(&verifier, nonce_rule)
        .map_err(|err| reason.take().unwrap_or_else(|| refused(err, &claims)))?;

    // openidconnect leaves `azp` unchecked: it must be us, and present with several audiences.
    match verified.authorized_party() {
        Some(azp) if azp.as_str() != e.client_id => return Err(ProviderMisbehaved::AzpMismatch),
        None if verified.audiences().len() > 1 => return Err(ProviderMisbehaved::AzpMismatch),
        _ => {}
    }
    // openidconnect does not read `nbf`.
    if num(&claims, "nbf").is_some_and(|nbf| nbf > now.saturating_add(skew)) {
        return Err(ProviderMisbehaved::IssuedInFuture);
    }
    // openidconnect accepts an empty `sub`, and knows no earlier token of this login.
    let sub = verified.subject().as_str();
    if sub.is_empty() {
        return Err(ProviderMisbehaved::MissingClaim("sub"));
    }
    if e.sub.is_some_and(|expected| sub != expected) {
        return Err(ProviderMisbehaved::SubMismatchInTokenResponse);
    }

    // The hashes with openidconnect's helpers; when each is required is ours (by response type).
    let c_hash = e.code.map(|code| {
        AuthorizationCodeHash::from_code(&AuthorizationCode::new(code.to_owned()), alg, key)
            .map(|h| h.as_str().to_owned())
    });
    check_hash(
        verified.code_hash().map(|h| h.as_str()),
        c_hash,
        e.c_hash_required,
        ProviderMisbehaved::MissingCHash,
        ProviderMisbehaved::CHashMismatch,
    )?;
    let at_hash = e.access_token.map(|at| {
        AccessTokenHash::from_token(&AccessToken::new(at.to_owned()), alg, key)
            .map(|h| h.as_str().to_owned())
    });
    check_hash(
        verified.access_token_hash().map(|h| h.as_str()),
        at_hash,
        e.at_hash_required,
        ProviderMisbehaved::MissingAtHash,
        ProviderMisbehaved::AtHashMismatch,
    )?;
    Ok(VerifiedIdToken {
        sub: sub.to_owned(),
        claims,
    })
}

fn num(claims: &Map<String, Value>, name: &str) -> Option<u64> {
    match claims.get(name)? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        _ => None,
    }
}

/// Why openidconnect could not read the claims: the first required one missing or of the
/// wrong shape.
fn unparseable(c: &Map<String, Value>) -> ProviderMisbehaved {
    if !c.get("iss").is_some_and(Value::is_string) {
        return ProviderMisbehaved::IssuerMismatch;
    }
    for name in ["exp", "iat"] {
        if num(c, name).is_none() {
            return ProviderMisbehaved::MissingClaim(name);
        }
    }
    if !c.get("sub").is_some_and(Value::is_string) {
        return ProviderMisbehaved::MissingClaim("sub");
    }
    if c.get("auth_time").is_some_and(|t| !t.is_number()) {
        return ProviderMisbehaved::MissingClaim("auth_time");
    }
    if c.get("acr").is_some_and(|a| !a.is_string()) {
        return ProviderMisbehaved::AcrNotRequested;
    }
    if c.get("nonce").is_some_and(|n| !n.is_string()) {
        return ProviderMisbehaved::NonceMismatch;
    }
    ProviderMisbehaved::MalformedJwt
}

/// Our typed error for one of openidconnect's refusals.
fn refused(err: ClaimsVerificationError, c: &Map<String, Value>) -> ProviderMisbehaved {
    match err {
        ClaimsVerificationError::InvalidIssuer(_) => ProviderMisbehaved::IssuerMismatch,
        ClaimsVerificationError::InvalidAudience(_) if !c.contains_key("aud") => {
            ProviderMisbehaved::MissingClaim("aud")
        }
        ClaimsVerificationError::InvalidAudience(_) => ProviderMisbehaved::AudienceMismatch,
        ClaimsVerificationError::Expired(_) => ProviderMisbehaved::Expired,
        ClaimsVerificationError::InvalidNonce(_) => ProviderMisbehaved::NonceMismatch,
        ClaimsVerificationError::InvalidAuthContext(_) => ProviderMisbehaved::AcrNotRequested,
        ClaimsVerificationError::InvalidAuthTime(_) => ProviderMisbehaved::AuthTimeTooOld,
        ClaimsVerificationError::SignatureVerification(e) => jws::signature_error(e),
        _ => ProviderMisbehaved::MalformedJwt,
    }
}

fn check_hash(
    claim: Option<&str>,
    expected: Option<Result<String, openidconnect::SigningError>>,
    required: bool,
    missing: ProviderMisbehaved,
    mismatch: ProviderMisbehaved,
) -> Result<(), ProviderMisbehaved> {
    match (claim, expected) {
        (_, Some(Err(_))) => Err(mismatch),
        (Some(claim), Some(Ok(hash))) if !bool::from(hash.as_bytes().ct_eq(claim.as_bytes())) => {
            Err(mismatch)
        }
        (None, Some(_)) if required => Err(missing),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        // An absent acr is not a claim of another level.
        assert!(check(&token(good()), &e).is_ok());
        // Without acr_values, any acr is accepted.
        e.acr_values = None;
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
}
