//! Encrypted responses: ID.me encrypts ID tokens and userinfo to the RP's registered
//! certificate (`RSA-OAEP` + `A256CBC-HS512`), wrapping a signed JWT. The header's `kid`
//! picks among the configured keys (for rotation); without a match every key is tried,
//! which is safe because the content encryption is authenticated.
//!
//! The JOSE work is josekit's (feature `encryption`); nothing here touches a primitive.

use std::sync::Arc;

use base64::Engine as _;

use crate::config_error::{ConfigError, Rule};
use crate::error::{Error, ProviderMisbehaved};

/// Key-management algorithms accepted on encrypted responses.
const ALGS: &[&str] = &["RSA-OAEP", "RSA-OAEP-256"];
/// Content encryptions accepted (all authenticated).
const ENCS: &[&str] = &["A256CBC-HS512", "A128CBC-HS256", "A256GCM", "A128GCM"];

/// The RP's private keys for encrypted responses.
#[derive(Clone, Default)]
pub struct DecryptionKeys {
    #[cfg(feature = "encryption")]
    keys: Vec<(Option<String>, Arc<KeyPair>)>,
    #[cfg(not(feature = "encryption"))]
    keys: Vec<(Option<String>, Arc<()>)>,
}

#[cfg(feature = "encryption")]
struct KeyPair {
    oaep: josekit::jwe::alg::rsaes::RsaesJweDecrypter,
    oaep256: josekit::jwe::alg::rsaes::RsaesJweDecrypter,
}

impl std::fmt::Debug for DecryptionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|(k, _)| k).collect();
        write!(f, "DecryptionKeys({kids:?}, [redacted])")
    }
}

impl DecryptionKeys {
    /// No keys: encrypted responses are refused (`400`) without being decrypted.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether any key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds an RSA private key in PEM (PKCS#1 or PKCS#8), optionally with the `kid` ID.me
    /// puts in the JWE header for it.
    #[cfg(feature = "encryption")]
    pub fn add_pem(mut self, kid: Option<String>, pem: &[u8]) -> Result<Self, ConfigError> {
        use josekit::jwe::{RSA_OAEP, RSA_OAEP_256};
        let bad = |e: josekit::JoseError| ConfigError::DecryptionKey {
            source: crate::SharedError::new(e),
        };
        let pair = KeyPair {
            oaep: RSA_OAEP.decrypter_from_pem(pem).map_err(bad)?,
            oaep256: RSA_OAEP_256.decrypter_from_pem(pem).map_err(bad)?,
        };
        self.keys.push((kid, Arc::new(pair)));
        Ok(self)
    }

    /// Without the `encryption` feature, keys cannot be loaded.
    #[cfg(not(feature = "encryption"))]
    pub fn add_pem(self, _kid: Option<String>, _pem: &[u8]) -> Result<Self, ConfigError> {
        Err(ConfigError::unsupported(
            "IDME_DECRYPTION_KEY_FILE",
            "decrypting ID.me responses needs idme-core's `encryption` feature",
        ))
    }

    /// Reads `IDME_DECRYPTION_KEY_FILE`: comma-separated `path` or `kid=path` entries.
    pub fn from_file_list(list: &str) -> Result<Self, ConfigError> {
        let mut keys = Self::none();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, path) = match entry.split_once('=') {
                Some((kid, path)) => (Some(kid.trim().to_owned()), path.trim()),
                None => (None, entry),
            };
            let pem = std::fs::read(path).map_err(|e| ConfigError::Unreadable {
                setting: "IDME_DECRYPTION_KEY_FILE",
                path: path.to_owned(),
                source: crate::SharedError::new(e),
            })?;
            keys = keys.add_pem(kid, &pem)?;
        }
        if keys.is_empty() {
            return Err(ConfigError::invalid(
                "IDME_DECRYPTION_KEY_FILE",
                list,
                Rule::NoFile,
            ));
        }
        Ok(keys)
    }

    /// Decrypts a compact JWE and returns its payload (the inner JWS, as text). Without a
    /// configured key, or when the cheap checks of [`precheck`] fail, no RSA operation is
    /// attempted.
    pub(crate) fn decrypt(&self, jwe: &str) -> Result<String, Error> {
        if self.keys.is_empty() {
            tracing::warn!(target: "idme::validate", "an encrypted token arrived, but no decryption key is configured (IDME_DECRYPTION_KEY_FILE)");
            return Err(ProviderMisbehaved::UnexpectedEncryption.into());
        }
        let header = precheck(jwe)?;
        let alg = header.get("alg").and_then(|v| v.as_str()).unwrap_or("");
        self.decrypt_with_keys(jwe, alg, header.get("kid").and_then(|v| v.as_str()))
    }

    #[cfg(feature = "encryption")]
    fn decrypt_with_keys(&self, jwe: &str, alg: &str, kid: Option<&str>) -> Result<String, Error> {
        // The key the header names first, then the others.
        let mut order: Vec<&Arc<KeyPair>> = self
            .keys
            .iter()
            .filter(|(k, _)| kid.is_some() && k.as_deref() == kid)
            .map(|(_, p)| p)
            .collect();
        order.extend(
            self.keys
                .iter()
                .filter(|(k, _)| !(kid.is_some() && k.as_deref() == kid))
                .map(|(_, p)| p),
        );
        for pair in order {
            let decrypter = if alg == "RSA-OAEP" {
                &pair.oaep
            } else {
                &pair.oaep256
            };
            if let Ok((payload, _)) = josekit::jwe::deserialize_compact(jwe, decrypter) {
                return String::from_utf8(payload)
                    .map(|s| s.trim().to_owned())
                    .map_err(|_| ProviderMisbehaved::MalformedJwt.into());
            }
        }
        tracing::warn!(target: "idme::validate", kid, "no configured key decrypts the response");
        Err(ProviderMisbehaved::DecryptionFailed.into())
    }

    #[cfg(not(feature = "encryption"))]
    fn decrypt_with_keys(&self, _: &str, _: &str, _: Option<&str>) -> Result<String, Error> {
        Err(ProviderMisbehaved::DecryptionFailed.into())
    }
}

/// The longest compact JWE decrypted: ID tokens and userinfo are a few KB.
const MAX_JWE_LEN: usize = 64 * 1024;
/// The RSA-encrypted content key is as long as the modulus: 1024 to 8192 bits.
const ENCRYPTED_KEY_LEN: std::ops::RangeInclusive<usize> = 128..=1024;

/// The checks that cost no RSA operation, made before any: size, five parts, a readable
/// protected header with an allowed `alg`/`enc`, no compression (`zip`) or critical
/// extension (`crit`), an encrypted key of an RSA modulus' length, and non-empty IV,
/// ciphertext and tag. Returns the protected header.
pub(crate) fn precheck(jwe: &str) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let malformed = || Error::from(ProviderMisbehaved::MalformedJwt);
    if jwe.len() > MAX_JWE_LEN {
        return Err(malformed());
    }
    let parts: Vec<&str> = jwe.split('.').collect();
    let [header, key, iv, ciphertext, tag] = parts[..] else {
        return Err(malformed());
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&b64.decode(header).map_err(|_| malformed())?)
            .map_err(|_| malformed())?;
    let alg = header.get("alg").and_then(|v| v.as_str()).unwrap_or("");
    let enc = header.get("enc").and_then(|v| v.as_str()).unwrap_or("");
    if !ALGS.contains(&alg) || !ENCS.contains(&enc) {
        return Err(ProviderMisbehaved::DisallowedAlgorithm(format!("{alg}/{enc}")).into());
    }
    if header.contains_key("zip") || header.contains_key("crit") {
        return Err(malformed());
    }
    let key_len = b64.decode(key).map_err(|_| malformed())?.len();
    if !ENCRYPTED_KEY_LEN.contains(&key_len) || [iv, ciphertext, tag].contains(&"") {
        return Err(malformed());
    }
    Ok(header)
}

/// Whether a compact token is a JWE (five parts) rather than a JWS (three).
pub(crate) fn is_jwe(token: &str) -> bool {
    token.split('.').count() == 5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn jwe(header: &str, key_len: usize) -> String {
        format!(
            "{}.{}.aXY.Y2lwaGVy.dGFn",
            b64(header.as_bytes()),
            b64(&vec![7; key_len])
        )
    }

    const GOOD: &str = r#"{"alg":"RSA-OAEP","enc":"A256CBC-HS512","kid":"k"}"#;

    #[test]
    fn precheck_accepts_a_well_formed_jwe() {
        assert!(precheck(&jwe(GOOD, 256)).is_ok());
    }

    #[test]
    fn precheck_refuses_before_any_rsa_work() {
        let too_long = format!("{}{}", jwe(GOOD, 256), "A".repeat(MAX_JWE_LEN));
        for bad in [
            jwe(r#"{"alg":"RSA1_5","enc":"A256CBC-HS512"}"#, 256),
            jwe(r#"{"alg":"dir","enc":"A256GCM"}"#, 256),
            jwe(
                r#"{"alg":"RSA-OAEP","enc":"A256CBC-HS512","zip":"DEF"}"#,
                256,
            ),
            jwe(
                r#"{"alg":"RSA-OAEP","enc":"A256CBC-HS512","crit":["x"]}"#,
                256,
            ),
            jwe(GOOD, 16),
            jwe(GOOD, 4096),
            jwe("not json", 256),
            too_long,
            "a.b.c.d".into(),
        ] {
            assert!(precheck(&bad).is_err(), "{}", &bad[..bad.len().min(80)]);
        }
    }

    #[test]
    fn no_key_means_a_400_not_a_configuration_error() {
        let e = DecryptionKeys::none().decrypt(&jwe(GOOD, 256)).unwrap_err();
        assert_eq!(e, Error::from(ProviderMisbehaved::UnexpectedEncryption));
        assert_eq!(e.status(), http::StatusCode::BAD_REQUEST);
    }
}
