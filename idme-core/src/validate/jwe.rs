//! Encrypted responses: ID.me encrypts ID tokens and userinfo to the RP's registered
//! certificate (`RSA-OAEP` + `A256CBC-HS512`), wrapping a signed JWT. The header's `kid`
//! picks among the configured keys (for rotation); without a match every key is tried,
//! which is safe because the content encryption is authenticated.
//!
//! The JOSE work is josekit's (feature `encryption`); nothing here touches a primitive.

use std::sync::Arc;

use base64::Engine as _;

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
    /// No keys: encrypted responses are refused with a configuration error.
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
    pub fn add_pem(mut self, kid: Option<String>, pem: &[u8]) -> Result<Self, Error> {
        use josekit::jwe::{RSA_OAEP, RSA_OAEP_256};
        let bad = |e: josekit::JoseError| Error::config(format!("decryption key: {e}"));
        let pair = KeyPair {
            oaep: RSA_OAEP.decrypter_from_pem(pem).map_err(bad)?,
            oaep256: RSA_OAEP_256.decrypter_from_pem(pem).map_err(bad)?,
        };
        self.keys.push((kid, Arc::new(pair)));
        Ok(self)
    }

    /// Without the `encryption` feature, keys cannot be loaded.
    #[cfg(not(feature = "encryption"))]
    pub fn add_pem(self, _kid: Option<String>, _pem: &[u8]) -> Result<Self, Error> {
        Err(Error::config(
            "decrypting ID.me responses needs idme-core's `encryption` feature",
        ))
    }

    /// Reads `IDME_DECRYPTION_KEY_FILE`: comma-separated `path` or `kid=path` entries.
    pub fn from_file_list(list: &str) -> Result<Self, Error> {
        let mut keys = Self::none();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, path) = match entry.split_once('=') {
                Some((kid, path)) => (Some(kid.trim().to_owned()), path.trim()),
                None => (None, entry),
            };
            let pem = std::fs::read(path).map_err(|e| {
                Error::config(format!(
                    "IDME_DECRYPTION_KEY_FILE: cannot read {path:?}: {e}"
                ))
            })?;
            keys = keys.add_pem(kid, &pem)?;
        }
        if keys.is_empty() {
            return Err(Error::config("IDME_DECRYPTION_KEY_FILE names no file"));
        }
        Ok(keys)
    }

    /// Decrypts a compact JWE and returns its payload (the inner JWS, as text).
    pub(crate) fn decrypt(&self, jwe: &str) -> Result<String, Error> {
        let header = jwe_header(jwe)?;
        let alg = header.get("alg").and_then(|v| v.as_str()).unwrap_or("");
        let enc = header.get("enc").and_then(|v| v.as_str()).unwrap_or("");
        if !ALGS.contains(&alg) || !ENCS.contains(&enc) {
            return Err(ProviderMisbehaved::DisallowedAlgorithm(format!("{alg}/{enc}")).into());
        }
        if self.keys.is_empty() {
            return Err(Error::config(
                "ID.me sent an encrypted response, but no decryption key is configured (IDME_DECRYPTION_KEY_FILE)",
            ));
        }
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

/// The protected header of a compact JWE (five parts).
fn jwe_header(jwe: &str) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let parts: Vec<&str> = jwe.split('.').collect();
    if parts.len() != 5 {
        return Err(ProviderMisbehaved::MalformedJwt.into());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[0])
        .map_err(|_| ProviderMisbehaved::MalformedJwt)?;
    serde_json::from_slice(&bytes).map_err(|_| ProviderMisbehaved::MalformedJwt.into())
}

/// Whether a compact token is a JWE (five parts) rather than a JWS (three).
pub(crate) fn is_jwe(token: &str) -> bool {
    token.split('.').count() == 5
}
