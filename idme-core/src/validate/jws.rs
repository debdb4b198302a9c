//! JWS signatures: our header reading, algorithm allow-list and key choice, and
//! `openidconnect`'s key interface doing the cryptography (RSA and ECDSA through `ring`,
//! see [`VerifyingKey`]).
//!
//! The key is chosen here, not by `openidconnect`'s verifier, because its choice refuses a
//! set with two keys that fit (ID.me publishes duplicate moduli) and cannot tell an unknown
//! `kid` (refetch the set) from a bad signature.

use base64::Engine as _;
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::{JsonWebKey, SignatureVerificationError};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, ProviderMisbehaved};
use crate::validate::key_set::{Jwk, KeyFamily, KeySnapshot};
use crate::validate::verifying_key::VerifyingKey;

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

/// Checks the signature with the key, then reads the claims.
pub(crate) fn verify_signature(
    token: &str,
    alg: &Alg,
    key: &VerifyingKey,
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
    verify: &impl Fn(&VerifyingKey) -> Result<T, ProviderMisbehaved>,
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

/// The key set a verification needs before it can go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeysWanted {
    /// No key set at hand (none fetched yet, or it is over an hour old).
    Current,
    /// The set of this generation lacks the token's `kid`: a newer one (one refetch).
    Newer(u64),
}

/// Chooses the key for a compact JWS after checking its algorithm, and runs `verify` with
/// it (each fitting key in turn while the signature is bad), with the key set at hand.
/// `Ok(Err(wanted))` asks for a key set first: when there is none, or when the token names
/// a `kid` the set lacks and `refetched` says the set was not just fetched for that.
pub(crate) fn verify_with_snapshot<T>(
    token: &str,
    hmac_secret: Option<&[u8]>,
    allowed: &[Alg],
    keys: Option<&KeySnapshot>,
    refetched: bool,
    verify: impl Fn(&VerifyingKey, &Alg) -> Result<T, ProviderMisbehaved>,
) -> Result<Result<T, KeysWanted>, Error> {
    let header = parse_header(token)?;
    let alg = check_alg(&header, allowed)?;
    if let Some(secret) = hmac_secret.filter(|_| is_hmac(&alg)) {
        return Ok(Ok(verify(&hmac_key(secret), &alg)?));
    }
    let Some(snapshot) = keys else {
        return Ok(Err(KeysWanted::Current));
    };
    match verify_with_keys(&header, &alg, &snapshot.keys, &|key| verify(key, &alg)) {
        Err(JwsError::UnknownKid) if !refetched => {
            tracing::info!(target: "idme::provider", kid = ?header.kid, "unknown kid: refetching the JWKS");
            Ok(Err(KeysWanted::Newer(snapshot.generation)))
        }
        other => Ok(Ok(other?)),
    }
}

/// The key an HMAC-signed token is checked with: the client secret.
pub(crate) fn hmac_key(secret: &[u8]) -> VerifyingKey {
    VerifyingKey::new_symmetric(secret.to_vec())
}

#[cfg(test)]
pub(crate) mod tests {
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

    // Two P-256 keys made for these tests only.
    pub(crate) const EC1_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg90tVZWHz4QRV7V+K
tHrTZyfu3oiEeGfWQOhaqoPFYsKhRANCAAQ8hCN3BvUEzg6inF88sBzynigqbVJH
rG8echzmsI19eMJ7M6XHl9liTTnGR/F4i9QIlJeYfXYR5zq/+KV0mtcr
-----END PRIVATE KEY-----";
    pub(crate) const EC1: (&str, &str) = (
        "PIQjdwb1BM4OopxfPLAc8p4oKm1SR6xvHnIc5rCNfXg",
        "wnszpceX2WJNOcZH8XiL1AiUl5h9dhHnOr_4pXSa1ys",
    );
    const EC2: (&str, &str) = (
        "JmMRTDoh8CmiMFRiUcUnEBkwHaN36NJcV4jGHcapaZA",
        "UE31P8vA7u3beTDVcVgFPF1sSCYxXWEtzo6L8RWSGnM",
    );

    pub(crate) fn es256(kid: Option<&str>, claims: serde_json::Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = kid.map(str::to_owned);
        let key = jsonwebtoken::EncodingKey::from_ec_pem(EC1_PEM.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    pub(crate) fn ec_jwks(keys: &[(Option<&str>, (&str, &str))]) -> Vec<Jwk> {
        let keys: Vec<_> = keys
            .iter()
            .map(|(kid, (x, y))| {
                // ID.me's shape: `algorithm` for `alg`, padded base64.
                serde_json::json!({"kty":"EC","crv":"P-256","algorithm":"ES256","kid":kid,
                                   "x": format!("{x}="),"y":y})
            })
            .collect();
        crate::validate::key_set::parse_jwks(
            serde_json::json!({ "keys": keys }).to_string().as_bytes(),
        )
        .unwrap()
    }

    fn verify(token: &str, keys: &[Jwk]) -> Result<VerifiedJws, JwsError> {
        let header = parse_header(token).unwrap();
        let alg = check_alg(&header, &[Alg::RsaSsaPkcs1V15Sha256, Alg::EcdsaP256Sha256])?;
        verify_with_keys(&header, &alg, keys, &|key| {
            verify_signature(token, &alg, key)
        })
    }

    #[test]
    fn es256_verifies_with_a_leniently_parsed_key() {
        let token = es256(Some("k1"), serde_json::json!({"sub":"a"}));
        let keys = ec_jwks(&[(Some("k1"), EC1)]);
        assert_eq!(verify(&token, &keys).unwrap().claims["sub"], "a");
        let [h, _, s] = parts(&token).unwrap();
        let forged = format!("{h}.{}.{s}", b64(r#"{"sub":"b"}"#));
        assert_eq!(
            verify(&forged, &keys).unwrap_err(),
            JwsError::Misbehaved(ProviderMisbehaved::BadSignature)
        );
        // Another key under the same kid does not verify it.
        assert_eq!(
            verify(&token, &ec_jwks(&[(Some("k1"), EC2)])).unwrap_err(),
            JwsError::Misbehaved(ProviderMisbehaved::BadSignature)
        );
    }

    #[test]
    fn every_fitting_key_is_tried_without_a_kid() {
        // openidconnect's own key choice refuses two fitting keys as ambiguous.
        let token = es256(None, serde_json::json!({"sub":"a"}));
        let keys = ec_jwks(&[(None, EC2), (None, EC1)]);
        assert_eq!(verify(&token, &keys).unwrap().claims["sub"], "a");
    }

    #[test]
    fn an_unknown_kid_asks_for_a_refetch_and_a_misfit_key_is_unknown() {
        let token = es256(Some("k9"), serde_json::json!({"sub":"a"}));
        assert_eq!(
            verify(&token, &ec_jwks(&[(Some("k1"), EC1)])).unwrap_err(),
            JwsError::UnknownKid
        );
        let h = JwsHeader {
            alg: "RS256".into(),
            kid: None,
        };
        let keys = ec_jwks(&[(None, EC1)]);
        let r = verify_with_keys(&h, &Alg::RsaSsaPkcs1V15Sha256, &keys, &|_| Ok(()));
        assert_eq!(
            r.unwrap_err(),
            JwsError::Misbehaved(ProviderMisbehaved::UnknownSigningKey)
        );
    }
}
