//! One provider key as `openidconnect`'s verifiers take it, with its RSA and ECDSA
//! signatures checked by `ring`.
//!
//! `openidconnect`'s `CoreJsonWebKey` checks RSA through the `rsa` crate, whose portable
//! big-integer arithmetic cost about 130 µs per RS256 check on the benchmark machine, three
//! times per sign-in; `ring` does the same check in about 30 µs. Everything else (key id, type, use and algorithm, HMAC,
//! the `at_hash`/`c_hash` hashing) stays `openidconnect`'s, through the wrapped key.

use std::sync::Arc;

use openidconnect::core::{
    CoreJsonWebKey, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm,
};
use openidconnect::{JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, SignatureVerificationError};
use ring::signature::{self, RsaParameters, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

/// A JWKS entry: `openidconnect`'s key, and its public key prepared for `ring` once, when
/// the key set is parsed.
#[derive(Clone, Serialize, Deserialize)]
#[serde(from = "CoreJsonWebKey", into = "CoreJsonWebKey")]
pub(crate) struct VerifyingKey {
    core: CoreJsonWebKey,
    prepared: Option<Arc<Prepared>>,
}

/// A public key in the form `ring` reads.
#[derive(Debug, PartialEq, Eq)]
enum Prepared {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The uncompressed SEC1 point (`04 || x || y`) on P-256.
    EcP256(Vec<u8>),
    /// The uncompressed SEC1 point on P-384.
    EcP384(Vec<u8>),
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No key material, not even a public one: a symmetric key here is the client secret.
        f.debug_struct("VerifyingKey")
            .field("kid", &self.core.key_id())
            .field("prepared", &self.prepared.is_some())
            .finish_non_exhaustive()
    }
}

fn without_leading_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

fn bit_len(bytes: &[u8]) -> usize {
    bytes.first().map_or(0, |&top| {
        (bytes.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    })
}

fn sec1_point(x: &[u8], y: &[u8], len: usize) -> Option<Vec<u8>> {
    (x.len() == len && y.len() == len).then(|| [&[0x04][..], x, y].concat())
}

impl VerifyingKey {
    /// An RSA key from its modulus and exponent (big-endian bytes).
    pub(crate) fn rsa(n: Vec<u8>, e: Vec<u8>, kid: Option<JsonWebKeyId>) -> Self {
        let (n_min, e_min) = (without_leading_zeros(&n), without_leading_zeros(&e));
        // Keys `ring` refuses (under 2,048 bits, an exponent it does not take) keep the
        // `rsa` crate's checks, as before.
        let fits_ring = (2048..=8192).contains(&bit_len(&n_min))
            && (2..=33).contains(&bit_len(&e_min))
            && e_min.last().is_some_and(|b| b & 1 == 1);
        let prepared = fits_ring.then_some(Prepared::Rsa { n: n_min, e: e_min });
        Self::with(CoreJsonWebKey::new_rsa(n, e, kid), prepared)
    }

    /// An EC key on P-256 or P-384 from its coordinates.
    pub(crate) fn ec(
        x: Vec<u8>,
        y: Vec<u8>,
        crv: openidconnect::core::CoreJsonCurveType,
        kid: Option<JsonWebKeyId>,
    ) -> Self {
        use openidconnect::core::CoreJsonCurveType as Crv;
        let prepared = match crv {
            Crv::P256 => sec1_point(&x, &y, 32).map(Prepared::EcP256),
            Crv::P384 => sec1_point(&x, &y, 48).map(Prepared::EcP384),
            _ => None,
        };
        Self::with(CoreJsonWebKey::new_ec(x, y, crv, kid), prepared)
    }

    fn with(core: CoreJsonWebKey, prepared: Option<Prepared>) -> Self {
        Self {
            core,
            prepared: prepared.map(Arc::new),
        }
    }

    /// Whether `ring` checks this key's signatures.
    #[cfg(test)]
    pub(crate) fn is_prepared(&self) -> bool {
        self.prepared.is_some()
    }
}

/// The `ring` algorithm for an RSA signature algorithm.
fn rsa_params(alg: &CoreJwsSigningAlgorithm) -> Option<&'static RsaParameters> {
    use CoreJwsSigningAlgorithm as A;
    Some(match alg {
        A::RsaSsaPkcs1V15Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        A::RsaSsaPkcs1V15Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        A::RsaSsaPkcs1V15Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        A::RsaSsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        A::RsaSsaPssSha384 => &signature::RSA_PSS_2048_8192_SHA384,
        A::RsaSsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// Checks `signature` over `message` with `ring`; `None` when the key and the algorithm
/// do not go together (`openidconnect` then gives its own error).
fn ring_verify(
    key: &Prepared,
    alg: &CoreJwsSigningAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Option<Result<(), ring::error::Unspecified>> {
    use CoreJwsSigningAlgorithm as A;
    Some(match (key, alg) {
        (Prepared::Rsa { n, e }, alg) => {
            RsaPublicKeyComponents { n, e }.verify(rsa_params(alg)?, message, signature)
        }
        (Prepared::EcP256(point), A::EcdsaP256Sha256) => {
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, signature)
        }
        (Prepared::EcP384(point), A::EcdsaP384Sha384) => {
            UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                .verify(message, signature)
        }
        _ => return None,
    })
}

impl From<CoreJsonWebKey> for VerifyingKey {
    /// A key read by `openidconnect` itself is not prepared: it verifies as before. (The
    /// engine builds its keys with [`VerifyingKey::rsa`] and [`VerifyingKey::ec`].)
    fn from(core: CoreJsonWebKey) -> Self {
        Self::with(core, None)
    }
}

impl From<VerifyingKey> for CoreJsonWebKey {
    fn from(key: VerifyingKey) -> Self {
        key.core
    }
}

impl JsonWebKey for VerifyingKey {
    type KeyUse = CoreJsonWebKeyUse;
    type SigningAlgorithm = CoreJwsSigningAlgorithm;

    fn key_id(&self) -> Option<&JsonWebKeyId> {
        self.core.key_id()
    }

    fn key_type(&self) -> &CoreJsonWebKeyType {
        self.core.key_type()
    }

    fn key_use(&self) -> Option<&CoreJsonWebKeyUse> {
        self.core.key_use()
    }

    fn signing_alg(&self) -> JsonWebKeyAlgorithm<&CoreJwsSigningAlgorithm> {
        self.core.signing_alg()
    }

    fn new_symmetric(key: Vec<u8>) -> Self {
        Self::with(CoreJsonWebKey::new_symmetric(key), None)
    }

    fn verify_signature(
        &self,
        alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        let checked = self
            .prepared
            .as_deref()
            .and_then(|key| ring_verify(key, alg, message, signature));
        match checked {
            Some(Ok(())) => Ok(()),
            Some(Err(_)) => Err(SignatureVerificationError::CryptoError(
                "bad signature".into(),
            )),
            None => self.core.verify_signature(alg, message, signature),
        }
    }

    fn hash_bytes(&self, bytes: &[u8], alg: &CoreJwsSigningAlgorithm) -> Result<Vec<u8>, String> {
        self.core.hash_bytes(bytes, alg)
    }
}
