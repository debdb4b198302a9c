//! `at_hash` and `c_hash` (OIDC Core §3.1.3.6, §3.3.2.11): the left-most half of the hash of
//! the ASCII value, with the hash of the ID token's signing algorithm, base64url.

use base64::Engine as _;
use jsonwebtoken::Algorithm;
use sha2::{Digest, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;

/// The hash claim value for `value` under `alg`.
pub(crate) fn half_hash(alg: Algorithm, value: &str) -> String {
    let digest: Vec<u8> = match alg {
        Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 | Algorithm::HS384 => {
            Sha384::digest(value.as_bytes()).to_vec()
        }
        Algorithm::RS512 | Algorithm::PS512 | Algorithm::HS512 => {
            Sha512::digest(value.as_bytes()).to_vec()
        }
        _ => Sha256::digest(value.as_bytes()).to_vec(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Whether `claim` is the hash of `value`, compared in constant time.
pub(crate) fn matches(alg: Algorithm, value: &str, claim: &str) -> bool {
    half_hash(alg, value)
        .as_bytes()
        .ct_eq(claim.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_core_example_at_hash() {
        // OIDC Core A.3/A.4: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
        // at_hash "77QmUPtjPfzWtF2AnpK9RQ" (RS256).
        assert_eq!(
            half_hash(
                Algorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        // c_hash "LDktKdoQak3Pk0cnXxCltA" for code "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk".
        assert!(matches(
            Algorithm::RS256,
            "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk",
            "LDktKdoQak3Pk0cnXxCltA"
        ));
        assert!(!matches(
            Algorithm::RS256,
            "other",
            "LDktKdoQak3Pk0cnXxCltA"
        ));
    }
}
