//! The `ring` verifier refuses what it must: a tampered signature, a tampered payload, a
//! token signed by another key; for RS256, PS256 and ES256, alone and inside the ID token
//! verifier.

use std::sync::OnceLock;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use serde_json::{Value, json};

use super::id_token::{self, Expectations};
use super::jws::tests::{EC1, EC1_PEM, ec_jwks};
use super::jws::{self, Alg, JwsError};
use super::key_set::{Jwk, parse_jwks};
use crate::error::ProviderMisbehaved;

const NOW: u64 = 1_800_000_000;

/// Two RSA key pairs made once for these tests: (private PEM, JWK members n and e).
fn rsa_keys() -> &'static [(String, String, String); 2] {
    static KEYS: OnceLock<[(String, String, String); 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let make = || {
            use rsa::traits::PublicKeyParts;
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
            let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
            (
                key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string(),
                b64(key.n().to_bytes_be()),
                b64(key.e().to_bytes_be()),
            )
        };
        [make(), make()]
    })
}

/// The key set with RSA key `which` under `kid`.
fn rsa_jwks(kid: &str, which: usize) -> Vec<Jwk> {
    let (_, n, e) = &rsa_keys()[which];
    let doc = json!({"keys":[{"kty":"RSA","kid":kid,"n":n,"e":e}]});
    parse_jwks(doc.to_string().as_bytes()).unwrap()
}

fn sign(alg: Algorithm, kid: &str, claims: &Value) -> String {
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(EC1_PEM.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(rsa_keys()[0].0.as_bytes()).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// The right key set for `alg`, and one with another key under the same `kid`.
fn key_sets(alg: Algorithm) -> (Vec<Jwk>, Vec<Jwk>) {
    match alg {
        Algorithm::ES256 => (
            ec_jwks(&[(Some("k1"), EC1)]),
            ec_jwks(&[(Some("k1"), EC2_PUBLIC)]),
        ),
        _ => (rsa_jwks("k1", 0), rsa_jwks("k1", 1)),
    }
}

/// A P-256 public key that is not [`EC1`]'s.
const EC2_PUBLIC: (&str, &str) = (
    "JmMRTDoh8CmiMFRiUcUnEBkwHaN36NJcV4jGHcapaZA",
    "UE31P8vA7u3beTDVcVgFPF1sSCYxXWEtzo6L8RWSGnM",
);

const ALGS: [(Algorithm, Alg); 3] = [
    (Algorithm::RS256, Alg::RsaSsaPkcs1V15Sha256),
    (Algorithm::PS256, Alg::RsaSsaPssSha256),
    (Algorithm::ES256, Alg::EcdsaP256Sha256),
];

fn verify(token: &str, keys: &[Jwk]) -> Result<Value, JwsError> {
    let header = jws::parse_header(token).unwrap();
    let allowed: Vec<Alg> = ALGS.iter().map(|(_, a)| a.clone()).collect();
    let alg = jws::check_alg(&header, &allowed)?;
    jws::verify_with_keys(&header, &alg, keys, &|key| {
        jws::verify_signature(token, &alg, key)
    })
    .map(|v| Value::Object(v.claims))
}

/// `token` with one bit of its signature flipped.
fn flip_signature_bit(token: &str) -> String {
    let (signed, sig) = token.rsplit_once('.').unwrap();
    let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!("{signed}.{sig}")
}

/// `token` with another payload under its header and signature.
fn swap_payload(token: &str) -> String {
    let mut parts = token.split('.');
    let (h, _, s) = (parts.next().unwrap(), parts.next(), parts.next().unwrap());
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"sub":"mallory"}"#);
    format!("{h}.{payload}.{s}")
}

const BAD: JwsError = JwsError::Misbehaved(ProviderMisbehaved::BadSignature);

#[test]
fn the_keys_of_a_parsed_set_are_checked_by_ring() {
    for (alg, _) in ALGS {
        let (keys, _) = key_sets(alg);
        assert!(keys.iter().all(|k| k.key.is_prepared()), "{alg:?}");
    }
}

#[test]
fn tampered_or_foreign_signatures_fail_and_good_ones_pass() {
    for (alg, _) in ALGS {
        let token = sign(alg, "k1", &json!({"sub":"alice"}));
        let (keys, mismatched) = key_sets(alg);
        assert_eq!(verify(&token, &keys).unwrap()["sub"], "alice", "{alg:?}");
        assert_eq!(
            verify(&flip_signature_bit(&token), &keys),
            Err(BAD),
            "{alg:?}"
        );
        assert_eq!(verify(&swap_payload(&token), &keys), Err(BAD), "{alg:?}");
        assert_eq!(verify(&token, &mismatched), Err(BAD), "{alg:?}");
        // A truncated signature, and none at all.
        let (signed, sig) = token.rsplit_once('.').unwrap();
        let short = format!("{signed}.{}", &sig[..sig.len() - 8]);
        assert!(verify(&short, &keys).is_err(), "{alg:?}");
        assert!(verify(&format!("{signed}."), &keys).is_err(), "{alg:?}");
        // A kid the set lacks asks for a refetch.
        let unknown = sign(alg, "k9", &json!({"sub":"alice"}));
        assert_eq!(
            verify(&unknown, &keys),
            Err(JwsError::UnknownKid),
            "{alg:?}"
        );
    }
}

#[test]
fn an_rs256_key_does_not_verify_ps256_and_an_ec_key_no_rsa() {
    let rs = sign(Algorithm::RS256, "k1", &json!({"sub":"alice"}));
    let ps = sign(Algorithm::PS256, "k1", &json!({"sub":"alice"}));
    let (rsa_keys, _) = key_sets(Algorithm::RS256);
    let key = &rsa_keys[0].key;
    // The same key, the other padding: the signature does not fit.
    assert_eq!(
        jws::verify_signature(&rs, &Alg::RsaSsaPssSha256, key).unwrap_err(),
        ProviderMisbehaved::BadSignature
    );
    assert_eq!(
        jws::verify_signature(&ps, &Alg::RsaSsaPkcs1V15Sha256, key).unwrap_err(),
        ProviderMisbehaved::BadSignature
    );
    let (ec_keys, _) = key_sets(Algorithm::ES256);
    assert!(jws::verify_signature(&rs, &Alg::RsaSsaPkcs1V15Sha256, &ec_keys[0].key).is_err());
}

fn expect() -> Expectations<'static> {
    Expectations {
        issuer: "https://iss",
        client_id: "cid",
        hmac_secret: None,
        allowed: &[
            Alg::RsaSsaPkcs1V15Sha256,
            Alg::RsaSsaPssSha256,
            Alg::EcdsaP256Sha256,
        ],
        nonce: Some("n1"),
        nonce_may_be_absent: false,
        code: None,
        c_hash_required: false,
        access_token: None,
        at_hash_required: false,
        sub: None,
        max_age: None,
        acr_values: None,
        acr_required: false,
        now: NOW,
        skew: 60,
    }
}

#[test]
fn the_id_token_verifier_refuses_tampered_and_foreign_signatures() {
    let claims = json!({"iss":"https://iss","aud":"cid","sub":"alice","exp":NOW+300,
                        "iat":NOW,"nonce":"n1"});
    for (alg, jws_alg) in ALGS {
        let token = sign(alg, "k1", &claims);
        let (keys, mismatched) = key_sets(alg);
        let check = |token: &str, keys: &[Jwk]| {
            id_token::verify(token, &keys[0].key, &jws_alg, &expect()).map(|v| v.sub)
        };
        assert_eq!(check(&token, &keys).as_deref(), Ok("alice"), "{alg:?}");
        let bad = Err(ProviderMisbehaved::BadSignature);
        assert_eq!(check(&flip_signature_bit(&token), &keys), bad, "{alg:?}");
        assert_eq!(check(&token, &mismatched), bad, "{alg:?}");
    }
}

#[test]
fn a_key_ring_does_not_take_still_verifies_as_before() {
    use rsa::traits::PublicKeyParts;
    // 1,024 bits: under `ring`'s 2,048-bit floor, so the `rsa` crate checks it, as before.
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let doc = json!({"keys":[{"kty":"RSA","kid":"small","n":b64(key.n().to_bytes_be()),
                              "e":b64(key.e().to_bytes_be())}]});
    let keys = parse_jwks(doc.to_string().as_bytes()).unwrap();
    assert!(!keys[0].key.is_prepared());
    let pem = key.to_pkcs1_pem(LineEnding::LF).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("small".into());
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&header, &json!({"sub":"alice"}), &encoding).unwrap();
    assert_eq!(verify(&token, &keys).unwrap()["sub"], "alice");
    assert_eq!(verify(&flip_signature_bit(&token), &keys), Err(BAD));
}
