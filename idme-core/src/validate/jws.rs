//! JWS signature verification with an algorithm allow-list, on top of `jsonwebtoken`.

use std::collections::HashSet;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, ProviderMisbehaved};
use crate::provider::Jwk;
use crate::provider::jwks::KeyFamily;

/// The JOSE header members the engine looks at.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JwsHeader {
    pub(crate) alg: String,
    #[serde(default)]
    pub(crate) kid: Option<String>,
}

/// A verified token: its algorithm and claims.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedJws {
    pub(crate) alg: Algorithm,
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

/// Decodes the protected header of a compact JWS.
pub(crate) fn parse_header(token: &str) -> Result<JwsHeader, ProviderMisbehaved> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ProviderMisbehaved::MalformedJwt);
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| ProviderMisbehaved::MalformedJwt)?;
    serde_json::from_slice(&bytes).map_err(|_| ProviderMisbehaved::MalformedJwt)
}

/// The header's algorithm, if it is on the allow-list. `none` never is.
pub(crate) fn check_alg(
    header: &JwsHeader,
    allowed: &[Algorithm],
) -> Result<Algorithm, ProviderMisbehaved> {
    let refuse = || ProviderMisbehaved::DisallowedAlgorithm(header.alg.chars().take(16).collect());
    if header.alg.eq_ignore_ascii_case("none") {
        return Err(refuse());
    }
    let alg: Algorithm = header.alg.parse().map_err(|_| refuse())?;
    if allowed.contains(&alg) {
        Ok(alg)
    } else {
        Err(refuse())
    }
}

/// Whether `alg` is an HMAC algorithm (keyed with the client secret).
pub(crate) fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

fn family_fits(family: KeyFamily, alg: Algorithm) -> bool {
    match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => family == KeyFamily::Rsa,
        Algorithm::ES256 => family == KeyFamily::EcP256,
        Algorithm::ES384 => family == KeyFamily::EcP384,
        _ => false,
    }
}

fn signature_only(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims = HashSet::new();
    v.leeway = 0;
    v
}

fn decode_with(
    token: &str,
    alg: Algorithm,
    key: &DecodingKey,
) -> Result<Map<String, Value>, ProviderMisbehaved> {
    match jsonwebtoken::decode::<Map<String, Value>>(token, key, &signature_only(alg)) {
        Ok(data) => Ok(data.claims),
        Err(e) => match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature
            | jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_)
            | jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey
            | jsonwebtoken::errors::ErrorKind::InvalidKeyFormat => {
                Err(ProviderMisbehaved::BadSignature)
            }
            _ => Err(ProviderMisbehaved::MalformedJwt),
        },
    }
}

/// Verifies with the key the header's `kid` names or, without `kid`, with each key that fits
/// the algorithm.
pub(crate) fn verify_with_keys(
    token: &str,
    header: &JwsHeader,
    alg: Algorithm,
    keys: &[Jwk],
) -> Result<VerifiedJws, JwsError> {
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
        match decode_with(token, alg, &key.key) {
            Ok(claims) => return Ok(VerifiedJws { alg, claims }),
            Err(e) => last = e,
        }
    }
    Err(last.into())
}

/// Verifies an HMAC-signed token keyed with the client secret.
pub(crate) fn verify_hmac(
    token: &str,
    alg: Algorithm,
    secret: &[u8],
) -> Result<VerifiedJws, ProviderMisbehaved> {
    let claims = decode_with(token, alg, &DecodingKey::from_secret(secret))?;
    Ok(VerifiedJws { alg, claims })
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
            check_alg(&h, &[Algorithm::RS256, Algorithm::ES256]),
            Err(ProviderMisbehaved::DisallowedAlgorithm("none".into()))
        );
    }

    #[test]
    fn algorithms_outside_the_allow_list_are_refused() {
        let h = JwsHeader {
            alg: "HS256".into(),
            kid: None,
        };
        assert!(check_alg(&h, &[Algorithm::RS256]).is_err());
        assert_eq!(check_alg(&h, &[Algorithm::HS256]), Ok(Algorithm::HS256));
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
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"sub":"a"}),
            &key,
        )
        .unwrap();
        assert!(verify_hmac(&token, Algorithm::HS256, b"s3cret").is_ok());
        assert_eq!(
            verify_hmac(&token, Algorithm::HS256, b"other").unwrap_err(),
            ProviderMisbehaved::BadSignature
        );
    }
}
