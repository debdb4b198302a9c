//! The compact seal of the session (cookie and stored record): JSON, deflated, then
//! AES-256-GCM with the cookie key's encryption half, base64url once.
//!
//! `cookie`'s private jar seals a UTF-8 string and base64-encodes the result, so a
//! compressed (binary) plaintext would be base64-encoded twice and gain nothing; this
//! seals the bytes directly, with the same AEAD (RustCrypto `aes-gcm`), the same key and
//! the same associated data as [`CookieKeys::seal`]. The session is about a third smaller
//! (the ID token and the verification attributes compress well), which every signed-in
//! request pays for in bytes sent and parsed.
//!
//! Compression before encryption leaks the plaintext's compressibility through the
//! length. That is a risk only where an attacker can put chosen text beside a secret in
//! one sealed value and watch its length change (CRIME/BREACH); a session holds the
//! provider's tokens and the claims the provider returned, nothing a third party chooses.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CookieKeys;

/// The first byte of every compact seal (before base64): the format, so a later one can
/// be told apart.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
/// The largest JSON a compact seal may inflate to: a session is a few KB; a sealed value
/// that inflates further is refused rather than allocated.
const MAX_PLAIN: usize = 64 * 1024;
/// Deflate level: the session is sealed once per sign-in or refresh, opened once per
/// process (then cached), so the best ratio costs nothing per request.
const LEVEL: u8 = 9;

impl CookieKeys {
    /// Seals `value` compactly (JSON, deflated, AES-256-GCM with the newest key), bound to
    /// `name` and to the issuer and client of the configuration these keys belong to
    /// ([`IdmeConfig::cookie_keys`](crate::IdmeConfig::cookie_keys)): for extensions that
    /// keep sealed values in a store.
    pub fn seal_compact<T: Serialize>(&self, name: &str, value: &T) -> String {
        let json = serde_json::to_vec(value).expect("serialising plain data cannot fail");
        let deflated = miniz_oxide::deflate::compress_to_vec(&json, LEVEL);
        let ad = self.associated_data(name);
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = Aes256Gcm::new_from_slice(self.keys[0].encryption())
            .expect("a cookie key's encryption half is 32 bytes");
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &deflated,
                    aad: ad.as_bytes(),
                },
            )
            .expect("AES-GCM seals any message this size");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Opens a compact seal with any key; `None` if it is not one, no key opens it
    /// (another name, issuer or client; tampered; retired key), it inflates past the
    /// limit, or the JSON is not a `T`. A value sealed by the older `seal` before
    /// sessions were compact still opens (a deployment does not sign everyone out).
    pub fn open_compact<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Option<T> {
        let Some(bytes) = URL_SAFE_NO_PAD
            .decode(sealed)
            .ok()
            .filter(|b| b.first() == Some(&VERSION) && b.len() > 1 + NONCE_LEN)
        else {
            return self.open(name, sealed);
        };
        let (nonce, ciphertext) = bytes[1..].split_at(NONCE_LEN);
        let ad = self.associated_data(name);
        let deflated = self.keys.iter().find_map(|key| {
            Aes256Gcm::new_from_slice(key.encryption())
                .ok()?
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: ad.as_bytes(),
                    },
                )
                .ok()
        })?;
        let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&deflated, MAX_PLAIN).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Payload {
        a: String,
    }

    fn keys() -> CookieKeys {
        CookieKeys::random().bound_to("https://idp.example", "client")
    }

    #[test]
    fn round_trips_and_binds_the_name_and_the_issuer() {
        let keys = keys();
        let p = Payload { a: "x".repeat(500) };
        let sealed = keys.seal_compact("n1", &p);
        assert!(
            sealed.len() < 100,
            "500 repeated bytes deflate: {}",
            sealed.len()
        );
        assert_eq!(keys.open_compact::<Payload>("n1", &sealed), Some(p));
        assert_eq!(keys.open_compact::<Payload>("n2", &sealed), None, "name");
        let elsewhere = keys.clone().bound_to("https://other.example", "client");
        assert_eq!(
            elsewhere.open_compact::<Payload>("n1", &sealed),
            None,
            "issuer"
        );
    }

    #[test]
    fn a_tampered_or_foreign_value_does_not_open() {
        let keys = keys();
        let sealed = keys.seal_compact("n", &Payload { a: "hello".into() });
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(keys.open_compact::<Payload>("n", &tampered), None);
        assert_eq!(keys.open_compact::<Payload>("n", "garbage"), None);
        assert_eq!(keys.open_compact::<Payload>("n", ""), None);
        let stranger = CookieKeys::random().bound_to("https://idp.example", "client");
        assert_eq!(stranger.open_compact::<Payload>("n", &sealed), None);
    }

    #[test]
    fn a_value_sealed_before_compact_seals_still_opens() {
        let keys = keys();
        let p = Payload { a: "legacy".into() };
        let legacy = keys.seal("n", &p);
        assert_eq!(keys.open_compact::<Payload>("n", &legacy), Some(p));
    }

    #[test]
    fn a_seal_that_inflates_past_the_limit_is_refused() {
        let keys = keys();
        // Valid, sealed with our key, but its JSON would inflate to 1 MB.
        let big = Payload {
            a: "0".repeat(1024 * 1024),
        };
        let sealed = keys.seal_compact("n", &big);
        assert!(sealed.len() < 4096, "a megabyte of zeros deflates small");
        assert_eq!(keys.open_compact::<Payload>("n", &sealed), None);
    }

    #[test]
    fn a_rotated_key_still_opens_what_the_old_one_sealed() {
        let old = CookieKeys::from_masters([[7u8; 64]])
            .unwrap()
            .bound_to("https://idp.example", "client");
        let sealed = old.seal_compact("n", &Payload { a: "kept".into() });
        let rotated = CookieKeys::from_masters([[9u8; 64], [7u8; 64]])
            .unwrap()
            .bound_to("https://idp.example", "client");
        assert_eq!(
            rotated.open_compact::<Payload>("n", &sealed),
            Some(Payload { a: "kept".into() })
        );
    }
}
