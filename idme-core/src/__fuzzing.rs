//! Thin entry points into the parsers that see attacker-controlled bytes, for the
//! `idme-fuzz` harness (as rustls exposes its internals to its fuzzers). Each calls the
//! real internal function and reduces its result to something the harness can check
//! without naming private types. Not part of the API: no stability promise.
//!
//! The paths that need a running engine (the sealed session cookie, the pending-login
//! cookie with the callback, the back-channel `logout_token`) are fuzzed through the
//! public [`Idme`](crate::Idme) methods instead, so the whole real path runs.

use crate::validate::jws::Alg;

use crate::cookies::RequestCookies;
use crate::flow::{CallbackInput, CallbackMethod};

/// The callback parameters of a `GET` (query, the `query` response mode) or a `POST`
/// (form body: `form_post`, or a fragment relayed by the relay page) with `content_type`.
/// Returns how many parameters were read, or `None` when the input is refused.
pub fn callback_params(post: bool, content_type: Option<&str>, bytes: &[u8]) -> Option<usize> {
    let query = String::from_utf8_lossy(bytes);
    let input = CallbackInput {
        method: if post {
            CallbackMethod::Post
        } else {
            CallbackMethod::Get
        },
        query: (!post).then_some(query.as_ref()),
        body: if post { bytes } else { &[] },
        content_type,
    };
    let params = crate::flow::callback::read(&input).ok()?;
    Some(
        ["code", "state", "id_token", "access_token", "error", "iss"]
            .iter()
            .filter(|p| params.get(p).is_some())
            .count(),
    )
}

/// The protected header of a compact JWS, and its `alg` checked against the allow-list
/// (`RS256`, `ES256`, `HS256`). Returns whether the header is acceptable.
pub fn jws_header(token: &str) -> bool {
    crate::validate::jws::parse_header(token).is_ok_and(|h| {
        crate::validate::jws::check_alg(
            &h,
            &[
                Alg::RsaSsaPkcs1V15Sha256,
                Alg::EcdsaP256Sha256,
                Alg::HmacSha256,
            ],
        )
        .is_ok()
    })
}

/// Verifies a compact JWS against the keys of a JWKS document (`RS256`, `ES256`).
/// Returns whether the signature verified.
pub fn jws_verify(jwks: &[u8], token: &str) -> bool {
    use crate::validate::jws;
    let Ok(keys) = crate::validate::key_set::parse_jwks(jwks) else {
        return false;
    };
    let Ok(header) = jws::parse_header(token) else {
        return false;
    };
    let Ok(alg) = jws::check_alg(&header, &[Alg::RsaSsaPkcs1V15Sha256, Alg::EcdsaP256Sha256])
    else {
        return false;
    };
    jws::verify_with_keys(&header, &alg, &keys, &|key| {
        jws::verify_signature(token, &alg, key)
    })
    .is_ok()
}

/// Decrypts a compact JWE (header decode, algorithm check, RSA-OAEP key unwrap, AES-GCM)
/// with `keys`. Returns the decrypted payload's length.
pub fn jwe_decrypt(keys: &crate::DecryptionKeys, token: &str) -> Option<usize> {
    keys.decrypt(token).ok().map(|p| p.len())
}

/// Parses a JWKS document; returns how many usable keys it holds.
pub fn jwks(body: &[u8]) -> Option<usize> {
    crate::validate::key_set::parse_jwks(body)
        .ok()
        .map(|k| k.len())
}

/// Classifies a userinfo body as ID.me sends it (a JSON string wrapping a compact JWT,
/// sometimes twice) or as other providers do (plain JSON). Returns `Some(0)` for JSON
/// claims, `Some(3)` for a JWS, `Some(5)` for a JWE, `None` when refused.
pub fn userinfo_body(body: &[u8]) -> Option<usize> {
    use crate::validate::userinfo::{UserinfoBody, classify};
    match classify(body).ok()? {
        UserinfoBody::Json(_) => Some(0),
        UserinfoBody::Jws(_) => Some(3),
        UserinfoBody::Jwe(_) => Some(5),
    }
}

/// Parses an `attributes.json` body, and the same bytes as a policies document.
/// Returns whether the attributes parsed.
pub fn attributes_json(body: &[u8]) -> bool {
    let _ = crate::verification::parse_policies(body);
    crate::Verification::from_attributes_json(body).is_ok()
}

/// Parses `Cookie` header values and reassembles the (possibly chunked) cookie `name`.
/// Returns the reassembled value's length, `Some(Err(()))` for a broken chunk set.
pub fn cookie_reassemble(header_values: &[&str], name: &str) -> Option<Result<usize, ()>> {
    let cookies = RequestCookies::from_header_values(header_values.iter().copied());
    crate::cookies::reassemble(&cookies, name).map(|r| r.map(|v| v.len()))
}
