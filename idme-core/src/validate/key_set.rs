//! The provider's signing keys as plain values: lenient parsing of a JWKS and the fetched
//! set with its generation and age. Fetching and caching are the provider's (`provider::jwks`).
//!
//! Lenient as ID.me needs (ARCHITECTURE.md, "ID.me facts", JWKS quirks): `algorithm`
//! accepted for `alg`, keys without `alg` accepted, broken optional members (`x5t`, `x5c`)
//! ignored, unusable entries skipped.
//! Parsed here, not with `openidconnect`'s `JsonWebKeySet`, whose serde refuses those quirks;
//! each usable entry becomes a [`VerifyingKey`], prepared here once per fetched set.

use base64::Engine as _;
use openidconnect::JsonWebKeyId;
use openidconnect::core::CoreJsonCurveType;
use serde_json::Value;

use crate::error::{Error, ProviderMisbehaved};
use crate::validate::verifying_key::VerifyingKey;

/// How long (seconds) a fetched key set is used before it is fetched again on the next use.
const MAX_AGE: u64 = 3600;

/// One usable verification key.
#[derive(Clone)]
pub(crate) struct Jwk {
    pub(crate) kid: Option<String>,
    pub(crate) family: KeyFamily,
    pub(crate) alg: Option<String>,
    pub(crate) key: VerifyingKey,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("family", &self.family)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Which algorithms a key can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFamily {
    Rsa,
    EcP256,
    EcP384,
}

/// Parses a JWKS document, keeping every entry that yields a usable signature key.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, Error> {
    let doc: Value = serde_json::from_slice(body).map_err(|_| ProviderMisbehaved::MalformedJwks)?;
    let entries = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(ProviderMisbehaved::MalformedJwks)?;
    let keys: Vec<Jwk> = entries.iter().filter_map(parse_jwk).collect();
    if keys.is_empty() {
        return Err(ProviderMisbehaved::MalformedJwks.into());
    }
    Ok(keys)
}

fn str_member<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// base64url without padding, whatever alphabet and padding the provider used.
fn normalise_b64(s: &str) -> String {
    s.trim()
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
        .replace(['\n', '\r', ' '], "")
}

fn parse_jwk(v: &Value) -> Option<Jwk> {
    if str_member(v, "use").is_some_and(|u| u != "sig") {
        return None;
    }
    let kid = str_member(v, "kid").map(str::to_owned);
    let alg = str_member(v, "alg")
        .or_else(|| str_member(v, "algorithm"))
        .map(str::to_owned);
    let b64 = |name: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(normalise_b64(str_member(v, name)?))
            .ok()
            .filter(|b| !b.is_empty())
    };
    let key_id = kid.clone().map(JsonWebKeyId::new);
    let (family, key) = match str_member(v, "kty")? {
        "RSA" => (
            KeyFamily::Rsa,
            VerifyingKey::rsa(b64("n")?, b64("e")?, key_id),
        ),
        "EC" => {
            let (family, crv) = match str_member(v, "crv")? {
                "P-256" => (KeyFamily::EcP256, CoreJsonCurveType::P256),
                "P-384" => (KeyFamily::EcP384, CoreJsonCurveType::P384),
                _ => return None,
            };
            (family, VerifyingKey::ec(b64("x")?, b64("y")?, crv, key_id))
        }
        _ => return None,
    };
    Some(Jwk {
        kid,
        family,
        alg,
        key,
    })
}

/// A fetched key set with its generation number.
#[derive(Debug)]
pub(crate) struct KeySnapshot {
    pub(crate) keys: Vec<Jwk>,
    pub(crate) generation: u64,
    /// Unix seconds, by the engine's clock.
    fetched_at: u64,
}

impl KeySnapshot {
    /// A key set fetched at `fetched_at` (Unix seconds).
    pub(crate) fn new(keys: Vec<Jwk>, generation: u64, fetched_at: u64) -> Self {
        Self {
            keys,
            generation,
            fetched_at,
        }
    }

    /// Whether the set is younger than an hour at `now` (a clock that went back counts
    /// as young).
    pub(crate) fn is_fresh(&self, now: u64) -> bool {
        now.saturating_sub(self.fetched_at) < MAX_AGE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real 2048-bit modulus (from RFC 7517 appendix A.1), in ID.me's quirky shape.
    const N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    #[test]
    fn lenient_parsing_of_idme_quirks() {
        let doc = serde_json::json!({"keys":[
            {"kty":"RSA","use":"sig","algorithm":"RS256","kid":"a","n":N,"e":"AQAB",
             "x5t":"q3Wgbj0ITNr4aeCNfPJsR/Yti4k=","x5c":["MIIB\nbroken"]},
            {"kty":"RSA","kid":"b","n":N,"e":"AQAB"},
            {"kty":"oct","k":"c2VjcmV0"},
            {"kty":"RSA","use":"enc","kid":"c","n":N,"e":"AQAB"},
            {"kty":"RSA","kid":"broken"}
        ]});
        let keys = parse_jwks(doc.to_string().as_bytes()).unwrap();
        let kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
        assert_eq!(kids, ["a", "b"]);
        assert_eq!(keys[0].alg.as_deref(), Some("RS256"));
    }

    #[test]
    fn empty_or_garbage_jwks_is_an_error() {
        assert!(parse_jwks(b"{\"keys\":[]}").is_err());
        assert!(parse_jwks(b"<html>").is_err());
    }
}
