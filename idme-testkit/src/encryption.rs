//! Encrypted responses, as ID.me sends them to clients that registered a certificate:
//! `RSA-OAEP` + `A256CBC-HS512` around the signed JWT (josekit does the JOSE work).

use base64::Engine as _;

/// The RP's public key that the emulator encrypts ID tokens and userinfo to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpEncryptionKey {
    /// The `kid` put in the JWE header (ID.me names the RP key there).
    pub kid: Option<String>,
    /// The RSA public key (or certificate's key) in PEM, SubjectPublicKeyInfo or PKCS#1.
    pub public_key_pem: String,
}

impl RpEncryptionKey {
    /// Encrypts `jwt` to this key exactly as the emulator encrypts its responses, for
    /// tests that craft encrypted tokens of their own.
    ///
    /// # Errors
    /// The key is not a usable RSA public key.
    pub fn encrypt(&self, jwt: &str) -> Result<String, String> {
        encrypt(jwt, self)
    }
}

/// Encrypts `jwt` to `key` as a compact JWE with `cty: JWT`.
pub(crate) fn encrypt(jwt: &str, key: &RpEncryptionKey) -> Result<String, String> {
    use josekit::jwe::{JweHeader, RSA_OAEP};
    let mut header = JweHeader::new();
    header.set_content_encryption("A256CBC-HS512");
    header.set_content_type("JWT");
    if let Some(kid) = &key.kid {
        header.set_key_id(kid);
    }
    let encrypter = RSA_OAEP
        .encrypter_from_pem(key.public_key_pem.as_bytes())
        .map_err(|e| format!("RP encryption key: {e}"))?;
    josekit::jwe::serialize_compact(jwt.as_bytes(), &header, &encrypter)
        .map_err(|e| format!("encrypting: {e}"))
}

/// Flips one byte of a compact JWE's ciphertext (the fourth part).
pub(crate) fn tamper(jwe: &str) -> String {
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    if let Some(ct) = parts.get_mut(3) {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        if let Ok(mut bytes) = b64.decode(ct.as_bytes())
            && let Some(first) = bytes.first_mut()
        {
            *first ^= 0x01;
            *ct = b64.encode(bytes);
        }
    }
    parts.join(".")
}
