//! ID token claim checks (OIDC Core §3.1.3.7, §3.2.2.11, §3.3.2.12), after the signature.

use serde_json::{Map, Value};

use super::hashes;
use super::jws::VerifiedJws;
use crate::error::ProviderMisbehaved;

/// What an ID token must match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expectations<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) client_id: &'a str,
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

fn num(claims: &Map<String, Value>, name: &'static str) -> Result<u64, ProviderMisbehaved> {
    match claims.get(name) {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .ok_or(ProviderMisbehaved::MissingClaim(name)),
        _ => Err(ProviderMisbehaved::MissingClaim(name)),
    }
}

fn string<'c>(claims: &'c Map<String, Value>, name: &str) -> Option<&'c str> {
    claims.get(name).and_then(Value::as_str)
}

/// Checks every claim rule; returns the `sub`.
pub(crate) fn check(
    token: &VerifiedJws,
    e: &Expectations<'_>,
) -> Result<String, ProviderMisbehaved> {
    let c = &token.claims;

    if string(c, "iss") != Some(e.issuer) {
        return Err(ProviderMisbehaved::IssuerMismatch);
    }

    let audiences: Vec<&str> = match c.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return Err(ProviderMisbehaved::MissingClaim("aud")),
    };
    if !audiences.contains(&e.client_id) {
        return Err(ProviderMisbehaved::AudienceMismatch);
    }
    match string(c, "azp") {
        Some(azp) if azp != e.client_id => return Err(ProviderMisbehaved::AzpMismatch),
        None if audiences.len() > 1 => return Err(ProviderMisbehaved::AzpMismatch),
        _ => {}
    }

    let exp = num(c, "exp")?;
    if e.now > exp.saturating_add(e.skew) {
        return Err(ProviderMisbehaved::Expired);
    }
    let iat = num(c, "iat")?;
    if iat > e.now.saturating_add(e.skew) {
        return Err(ProviderMisbehaved::IssuedInFuture);
    }
    if num(c, "nbf").is_ok_and(|nbf| nbf > e.now.saturating_add(e.skew)) {
        return Err(ProviderMisbehaved::IssuedInFuture);
    }

    // OIDC Core §3.1.2.1: with max_age sent, auth_time is required and bounds the age of
    // the sign-in at the provider.
    if let Some(max_age) = e.max_age {
        let auth_time = num(c, "auth_time")?;
        if auth_time.saturating_add(max_age).saturating_add(e.skew) < e.now {
            return Err(ProviderMisbehaved::AuthTimeTooOld);
        }
    }
    // A returned acr must be one of the acr_values sent (a downgrade otherwise).
    if let Some(requested) = e.acr_values
        && let Some(acr) = c.get("acr")
        && !acr
            .as_str()
            .is_some_and(|a| requested.split_whitespace().any(|r| r == a))
    {
        return Err(ProviderMisbehaved::AcrNotRequested);
    }

    let sub = string(c, "sub")
        .filter(|s| !s.is_empty())
        .ok_or(ProviderMisbehaved::MissingClaim("sub"))?;
    if e.sub.is_some_and(|expected| sub != expected) {
        return Err(ProviderMisbehaved::SubMismatchInTokenResponse);
    }

    match (e.nonce, string(c, "nonce")) {
        (Some(expected), Some(got))
            if !bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                got.as_bytes(),
            )) =>
        {
            return Err(ProviderMisbehaved::NonceMismatch);
        }
        (Some(_), None) if !e.nonce_may_be_absent => return Err(ProviderMisbehaved::MissingNonce),
        _ => {}
    }

    check_hash(
        string(c, "c_hash"),
        token,
        e.code,
        e.c_hash_required,
        ProviderMisbehaved::MissingCHash,
        ProviderMisbehaved::CHashMismatch,
    )?;
    check_hash(
        string(c, "at_hash"),
        token,
        e.access_token,
        e.at_hash_required,
        ProviderMisbehaved::MissingAtHash,
        ProviderMisbehaved::AtHashMismatch,
    )?;
    Ok(sub.to_owned())
}

fn check_hash(
    claim: Option<&str>,
    token: &VerifiedJws,
    value: Option<&str>,
    required: bool,
    missing: ProviderMisbehaved,
    mismatch: ProviderMisbehaved,
) -> Result<(), ProviderMisbehaved> {
    match (claim, value) {
        (Some(claim), Some(value)) if !hashes::matches(token.alg, value, claim) => Err(mismatch),
        (None, Some(_)) if required => Err(missing),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::Algorithm;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn token(claims: Value) -> VerifiedJws {
        VerifiedJws {
            alg: Algorithm::RS256,
            claims: claims.as_object().unwrap().clone(),
        }
    }

    fn good() -> Value {
        json!({"iss":"https://iss","aud":"cid","sub":"u1","exp":NOW+300,"iat":NOW,"nonce":"n1",
               "c_hash": hashes::half_hash(Algorithm::RS256, "code1"),
               "at_hash": hashes::half_hash(Algorithm::RS256, "at1")})
    }

    fn expect() -> Expectations<'static> {
        Expectations {
            issuer: "https://iss",
            client_id: "cid",
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

    fn with(key: &str, v: Value) -> VerifiedJws {
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
        let cases: Vec<(VerifiedJws, P)> = vec![
            (with("iss", json!("https://evil")), P::IssuerMismatch),
            (with("iss", Value::Null), P::IssuerMismatch),
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
