//! What a token may be signed or encrypted with, by configuration: the accepted signature
//! algorithms, the HMAC key, and whether a JWE is expected (and decrypted first).

use std::borrow::Cow;

use crate::config::IdmeConfig;
use crate::error::{Error, ProviderMisbehaved};
use crate::validate::jws::Alg;

/// The ID token and userinfo signature algorithms accepted: RS256 and ES256 (what ID.me
/// advertises), plus HS* keyed with the client secret only when configured. Never `none`.
pub(crate) fn allowed_algorithms(config: &IdmeConfig) -> Vec<Alg> {
    let mut algs = vec![Alg::RsaSsaPkcs1V15Sha256, Alg::EcdsaP256Sha256];
    if config.allow_hmac {
        algs.extend([Alg::HmacSha256, Alg::HmacSha384, Alg::HmacSha512]);
    }
    algs
}

/// The client secret as the key of HMAC-signed tokens, when they are allowed.
pub(crate) fn hmac_secret(config: &IdmeConfig) -> Option<&[u8]> {
    config
        .allow_hmac
        .then_some(config.client_secret.as_ref())
        .flatten()
        .map(|s| s.secret().as_bytes())
}

/// The signed JWT inside an ID token. With a decryption key configured, encryption is
/// expected: the JWE is decrypted (after its cheap checks), and a plain token is refused
/// as a downgrade. Without one, a JWE is refused before any decryption is attempted.
pub(crate) fn unwrap_token<'t>(config: &IdmeConfig, token: &'t str) -> Result<Cow<'t, str>, Error> {
    let keys = &config.decryption_keys;
    match (crate::jwe::is_jwe(token), keys.is_empty()) {
        (false, true) => Ok(Cow::Borrowed(token)),
        (false, false) => Err(ProviderMisbehaved::NotEncrypted("ID token").into()),
        (true, true) => Err(ProviderMisbehaved::UnexpectedEncryption.into()),
        (true, false) => Ok(Cow::Owned(keys.decrypt(token)?)),
    }
}
