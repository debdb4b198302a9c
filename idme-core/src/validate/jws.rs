//! JWS signatures: our header reading, algorithm allow-list and key choice, and
//! `openidconnect`'s key types doing the cryptography.
//!
//! The key is chosen here, not by `openidconnect`'s verifier, because its choice refuses a
//! set with two keys that fit (ID.me publishes duplicate moduli) and cannot tell an unknown
//! `kid` (refetch the set) from a bad signature.

use base64::Engine as _;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, SignatureVerificationError};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, ProviderMisbehaved};
use crate::provider::Jwk;
use crate::provider::jwks::KeyFamily;

/// A JWS signing algorithm.
pub(crate) type Alg = CoreJwsSigningAlgorithm;

/// The JOSE header members the engine looks at.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JwsHeader {
    pub(crate) alg: String,
    #[serde(default)]
    pub(crate) kid: Option<String>,
}

/// A token whose signature verified: its claims.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedJws {
    pub(crate) claims: Map<String, Value>,
}

/// A verification failure; `UnknownKid` asks the caller to refetch the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwsError {
    UnknownKid,
    Misbehaved(ProviderMisbehaved),
}

impl From<ProviderMisbehaved> for JwsError {
    fn from(e: ProviderMisbehaved) -> Self {
        JwsError::Misbehaved(e)
    }
}

impl From<JwsError> for Error {
    fn from(e: JwsError) -> Self {
        match e {
            JwsError::UnknownKid => ProviderMisbehaved::UnknownSigningKey.into(),
            JwsError::Misbehaved(m) => m.into(),
        }
    }
}

/// Splits a compact JWS into its three base64url parts.
fn parts(token: &str) -> Result<[&str; 3], ProviderMisbehaved> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok([h, p, s]),
        _ => Err(ProviderMisbehaved::MalformedJwt),
    }
}

fn b64(part: &str) -> Result<Vec<u8>, ProviderMisbehaved> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| ProviderMisbehaved::MalformedJwt)
}

/// Decodes the protected header of a compact JWS (needed before any key is chosen).
pub(crate) fn parse_header(token: &str) -> Result<JwsHeader, ProviderMisbehaved> {
    let [h, _, _] = parts(token)?;
    serde_json::from_slice(&b64(h)?).map_err(|_| ProviderMisbehaved::MalformedJwt)
}

/// The payload of a compact JWS as claims, signature not checked.
pub(crate) fn unverified_claims(token: &str) -> Result<Map<String, Value>, ProviderMisbehaved> {
    let [_, p, _] = parts(token)?;
    serde_json::from_slice(&b64(p)?).map_err(|_| ProviderMisbehaved::MalformedJwt)
}

/// The header's algorithm, if it is on the allow-list. `none` never is.
pub(crate) fn check_alg(header: &JwsHeader, allowed: &[Alg]) -> Result<Alg, ProviderMisbehaved> {
    let refuse = || ProviderMisbehaved::DisallowedAlgorithm(header.alg.chars().take(16).collect());
    if header.alg.eq_ignore_ascii_case("none") {
        return Err(refuse());
    }
    let alg: Alg =
        serde_json::from_value(Value::String(header.alg.clone())).map_err(|_| refuse())?;
    if alg != Alg::None && allowed.contains(&alg) {
        Ok(alg)
    } else {
        Err(refuse())
    }
}

/// Whether `alg` is an HMAC algorithm (keyed with the client secret).
pub(crate) fn is_hmac(alg: &Alg) -> bool {
    matches!(alg, Alg::HmacSha256 | Alg::HmacSha384 | Alg::HmacSha512)
}

fn family_fits(family: KeyFamily, alg: &Alg) -> bool {
    match alg {
        Alg::RsaSsaPkcs1V15Sha256
        | Alg::RsaSsaPkcs1V15Sha384
        | Alg::RsaSsaPkcs1V15Sha512
        | Alg::RsaSsaPssSha256
        | Alg::RsaSsaPssSha384
        | Alg::RsaSsaPssSha512 => family == KeyFamily::Rsa,
        Alg::EcdsaP256Sha256 => family == KeyFamily::EcP256,
        Alg::EcdsaP384Sha384 => family == KeyFamily::EcP384,
        _ => false,
    }
}

/// Checks the signature with `openidconnect`'s key, then reads the claims.
pub(crate) fn verify_signature(
    token: &str,
    alg: &Alg,
    key: &CoreJsonWebKey,
) -> Result<VerifiedJws, ProviderMisbehaved> {
    let [h, p, s] = parts(token)?;
    let signature = b64(s)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    key.verify_signature(alg, signing_input.as_bytes(), &signature)
        .map_err(signature_error)?;
    Ok(VerifiedJws {
        claims: unverified_claims(token)?,
    })
}

/// Our typed error for one of `openidconnect`'s signature errors.
pub(crate) fn signature_error(e: SignatureVerificationError) -> ProviderMisbehaved {
    match e {
        SignatureVerificationError::DisallowedAlg(a)
        | SignatureVerificationError::UnsupportedAlg(a) => {
            ProviderMisbehaved::DisallowedAlgorithm(a.chars().take(16).collect())
        }
        SignatureVerificationError::NoSignature => {
            ProviderMisbehaved::DisallowedAlgorithm("none".into())
        }
        SignatureVerificationError::NoMatchingKey => ProviderMisbehaved::UnknownSigningKey,
        _ => ProviderMisbehaved::BadSignature,
    }
}

/// Runs `verify` with the key the header's `kid` names or, without `kid`, with each key that
/// fits the algorithm, until one is not a bad signature.
pub(crate) fn verify_with_keys<T>(
    header: &JwsHeader,
    alg: &Alg,
    keys: &[Jwk],
    verify: &impl Fn(&CoreJsonWebKey) -> Result<T, ProviderMisbehaved>,
) -> Result<T, JwsError> {
    let fits =
        |k: &&Jwk| family_fits(k.family, alg) && k.alg.as_deref().is_none_or(|a| a == header.alg);
    let candidates: Vec<&Jwk> = match &header.kid {
        Some(kid) => {
            let named: Vec<&Jwk> = keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                .collect();
            if named.is_empty() {
                return Err(JwsError::UnknownKid);
            }
            named.into_iter().filter(fits).collect()
        }
        None => keys.iter().filter(fits).collect(),
    };
    if candidates.is_empty() {
        return Err(ProviderMisbehaved::UnknownSigningKey.into());
    }
    let mut last = ProviderMisbehaved::BadSignature;
    for key in candidates {
        match verify(&key.key) {
            Err(ProviderMisbehaved::BadSignature) => last = ProviderMisbehaved::BadSignature,
            other => return other.map_err(Into::into),
        }
    }
    Err(last.into())
}

/// The key an HMAC-signed token is checked with: the client secret.
pub(crate) fn hmac_key(secret: &[u8]) -> CoreJsonWebKey {
    CoreJsonWebKey::new_symmetric(secret.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn alg_none_is_never_allowed() {
        let token = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"sub":"x"}"#));
        let h = parse_header(&token).unwrap();
        assert_eq!(
            check_alg(
                &h,
                &[Alg::RsaSsaPkcs1V15Sha256, Alg::EcdsaP256Sha256, Alg::None]
            ),
            Err(ProviderMisbehaved::DisallowedAlgorithm("none".into()))
        );
    }

    #[test]
    fn algorithms_outside_the_allow_list_are_refused() {
        let h = JwsHeader {
            alg: "HS256".into(),
            kid: None,
        };
        assert!(check_alg(&h, &[Alg::RsaSsaPkcs1V15Sha256]).is_err());
        assert_eq!(check_alg(&h, &[Alg::HmacSha256]), Ok(Alg::HmacSha256));
    }

    #[test]
    fn malformed_tokens() {
        assert_eq!(
            parse_header("a.b").unwrap_err(),
            ProviderMisbehaved::MalformedJwt
        );
        assert_eq!(
            parse_header("a.b.c.d").unwrap_err(),
            ProviderMisbehaved::MalformedJwt
        );
        assert_eq!(
            parse_header("!!.b.c").unwrap_err(),
            ProviderMisbehaved::MalformedJwt
        );
    }

    #[test]
    fn hmac_round_trip_and_tamper() {
        let key = jsonwebtoken::EncodingKey::from_secret(b"s3cret");
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({"sub":"a"}),
            &key,
        )
        .unwrap();
        let hs = Alg::HmacSha256;
        assert_eq!(
            verify_signature(&token, &hs, &hmac_key(b"s3cret"))
                .unwrap()
                .claims["sub"],
            "a"
        );
        assert_eq!(
            verify_signature(&token, &hs, &hmac_key(b"other")).unwrap_err(),
            ProviderMisbehaved::BadSignature
        );
    }
}
