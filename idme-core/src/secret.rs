//! Newtypes for every secret the engine handles. Three cross the public API: the
//! [`ClientSecret`] a configuration holds, the [`AccessToken`] of a signed-in user and a
//! native session's [`IdToken`]; the others (state, nonce, PKCE verifier, refresh token)
//! stay inside the engine.
//!
//! Each type redacts itself in `Debug`, has no `Display`, and exposes its value only through
//! `.secret()`, so every use of a secret is easy to find in review. Comparisons go through
//! [`subtle::ConstantTimeEq`].

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

macro_rules! secret_type {
    ($(#[$doc:meta])* $vis:vis $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Serialize, Deserialize)]
        #[serde(transparent)]
        $vis struct $name(String);

        // Not every secret needs every accessor.
        #[allow(dead_code)]
        impl $name {
            /// Wraps a secret value.
            $vis fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret value. Every call site is a place where the secret leaves its box.
            $vis fn secret(&self) -> &str {
                &self.0
            }

            /// Compares in constant time with another value.
            $vis fn ct_eq_str(&self, other: &str) -> bool {
                self.0.as_bytes().ct_eq(other.as_bytes()).into()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// The OAuth client secret issued by ID.me.
    pub ClientSecret
);
secret_type!(
    /// The `state` value binding an authorization response to the browser that started it.
    pub(crate) State
);
secret_type!(
    /// The OpenID Connect `nonce` binding an ID token to the login that asked for it.
    pub(crate) Nonce
);
secret_type!(
    /// A PKCE code verifier (RFC 7636).
    pub(crate) PkceVerifier
);
secret_type!(
    /// An authorization code returned by ID.me.
    pub(crate) AuthorizationCode
);
secret_type!(
    /// An OAuth access token (opaque for ID.me; lives five minutes).
    pub AccessToken
);
secret_type!(
    /// An OAuth refresh token.
    pub(crate) RefreshToken
);
secret_type!(
    /// A compact-serialised ID token (a JWS, or a JWE wrapping one).
    pub IdToken
);

/// `n` random bytes from the operating system's generator, base64url without padding:
/// state, nonce, PKCE verifiers, session ids, and extensions' codes and tokens.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = AccessToken::new("very-secret-token");
        assert_eq!(format!("{s:?}"), "AccessToken([redacted])");
        assert!(s.ct_eq_str("very-secret-token"));
        assert!(!s.ct_eq_str("very-secret-tokeN"));
    }

    #[test]
    fn random_tokens_differ_and_are_url_safe() {
        let a = random_token(32);
        let b = random_token(32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
