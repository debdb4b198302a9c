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
    /// An `acr` is required (the login asked for `acr_values` to step up).
    pub(crate) acr_required: bool,
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
            (Some(_), None) if e.acr_required => {
                reason.refuse(ProviderMisbehaved::MissingClaim("acr"))
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
