//! The random values of app clients (device codes, user codes, authorization codes,
//! token secrets, grant ids), the user code's normal form, and how stored values are
//! looked up: by SHA-256, compared in constant time.

use rand::Rng as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// RFC 8628 §6.1's base-20 alphabet: no vowels (no words), no look-alikes.
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters of a user code (8 from 20: about 34.5 bits).
const USER_CODE_LEN: usize = 8;

/// `bytes` random bytes from the OS-seeded generator, base64url without padding: the
/// engine's own generator of state, nonce and verifiers.
pub(crate) use idme_core::secret::random_token as random;

/// A new user code in its normal form (8 letters, no dash).
pub(crate) fn user_code() -> String {
    let mut rng = rand::rng();
    (0..USER_CODE_LEN)
        .map(|_| char::from(USER_CODE_ALPHABET[rng.random_range(0..USER_CODE_ALPHABET.len())]))
        .collect()
}

/// What a person typed, in normal form: upper case, dashes and spaces dropped; `None`
/// when it cannot be a user code.
pub(crate) fn normalise_user_code(input: &str) -> Option<String> {
    if input.len() > 64 {
        return None;
    }
    let code: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
        .then_some(code)
}

/// A normal-form user code as shown: `WDJB-MJHT`.
pub(crate) fn display_user_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(4));
    format!("{a}-{b}")
}

/// The SHA-256 of a secret, hex: what the store keeps instead of it.
pub(crate) fn hash(secret: &str) -> String {
    // Into a buffer: `hex::encode` goes a `char` at a time, and this runs on every poll
    // and bearer request.
    let mut hex = [0u8; 64];
    // 32 bytes always fit 64 hex digits, which are always UTF-8.
    let _ = hex::encode_to_slice(Sha256::digest(secret.as_bytes()), &mut hex);
    std::str::from_utf8(&hex).unwrap_or_default().to_owned()
}

/// Whether two hashes are equal, in constant time.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether `value` is 43-128 characters of RFC 7636's unreserved set (a code verifier
/// or an S256 challenge).
pub(crate) fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_lowercase_hex_sha256() {
        // FIPS 180-2's "abc" example.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn user_codes_use_the_base_20_alphabet_and_normalise() {
        for _ in 0..200 {
            let code = user_code();
            assert_eq!(normalise_user_code(&code).as_deref(), Some(code.as_str()));
            let shown = display_user_code(&code);
            assert_eq!(shown.len(), 9);
            assert_eq!(
                normalise_user_code(&shown.to_lowercase()).as_deref(),
                Some(code.as_str())
            );
        }
        assert_eq!(
            normalise_user_code("wdjb mjht").as_deref(),
            Some("WDJBMJHT")
        );
        assert_eq!(normalise_user_code("WDJB-MJHA"), None, "A is a vowel");
        assert_eq!(normalise_user_code("WDJB-MJH"), None);
    }

    #[test]
    fn device_codes_carry_32_random_bytes() {
        let a = random(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random(32));
    }
}
