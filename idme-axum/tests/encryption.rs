//! Encrypted ID tokens and userinfo (JWE, `RSA-OAEP` + `A256CBC-HS512`), end to end: the
//! emulator encrypts to the RP's public key as ID.me does once a certificate is
//! registered; the engine decrypts with the RP's private key and verifies the inner JWS.

mod common;

use std::sync::OnceLock;

use common::{Rig, SESSION, assert_failed};
use idme_core::{DecryptionKeys, ResponseType};
use idme_testkit::browser::Browser;
use idme_testkit::{Fault, Persona, RpEncryptionKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

/// Two RSA key pairs (private PEM, public PEM), generated once per test process.
fn keys() -> &'static [(String, String); 2] {
    static KEYS: OnceLock<[(String, String); 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let gen_pair = || {
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
            let private = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
            let public = key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap();
            (private, public)
        };
        [gen_pair(), gen_pair()]
    })
}

fn rp_keys(entries: &[(&str, usize)]) -> DecryptionKeys {
    let mut k = DecryptionKeys::none();
    for (kid, i) in entries {
        k = k
            .add_pem(Some((*kid).to_owned()), keys()[*i].0.as_bytes())
            .unwrap();
    }
    k
}

fn emulator_key(kid: &str, i: usize) -> Option<RpEncryptionKey> {
    Some(RpEncryptionKey {
        kid: Some(kid.to_owned()),
        public_key_pem: keys()[i].1.clone(),
    })
}

#[tokio::test]
async fn encrypted_id_token_and_userinfo_sign_in() {
    for rt in [
        ResponseType::Code,
        ResponseType::IdTokenToken,
        ResponseType::CodeIdToken,
    ] {
        let rig = Rig::with(|b| b.response_type(rt).decryption_keys(rp_keys(&[("rp-1", 0)]))).await;
        rig.emulator.set_rp_encryption_key(emulator_key("rp-1", 0));
        let browser = Browser::new();
        let page = rig.sign_in(&browser, "/me").await;
        assert_eq!(page.status, 200, "{rt}: {}", page.body);
        assert_eq!(page.json()["sub"], Persona::Veteran.sub());
        assert_eq!(page.json()["claims"]["fname"], "Vera", "decrypted userinfo");
    }
}

#[tokio::test]
async fn encrypted_responses_without_a_key_are_refused() {
    let rig = Rig::new().await;
    rig.emulator.set_rp_encryption_key(emulator_key("rp-1", 0));
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    // The provider (or whoever forged the callback) is at fault, not the configuration:
    // a 400, and nothing is decrypted.
    assert_failed(&page, &browser, 400, "could not be verified");
}

#[tokio::test]
async fn a_wrong_key_is_a_clear_error_and_no_session() {
    let rig = Rig::with(|b| b.decryption_keys(rp_keys(&[("rp-1", 0)]))).await;
    rig.emulator.set_rp_encryption_key(emulator_key("rp-1", 1));
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_failed(&page, &browser, 400, "could not be verified");
}

#[tokio::test]
async fn a_tampered_ciphertext_is_refused() {
    for rt in [ResponseType::Code, ResponseType::IdToken] {
        let rig = Rig::with(|b| b.response_type(rt).decryption_keys(rp_keys(&[("rp-1", 0)]))).await;
        rig.emulator.set_rp_encryption_key(emulator_key("rp-1", 0));
        rig.emulator.set_faults([Fault::TamperedCiphertext]);
        let browser = Browser::new();
        let page = rig.sign_in(&browser, "/me").await;
        assert_failed(&page, &browser, 400, "could not be verified");
        assert!(browser.cookie(SESSION).is_none());
    }
}

#[tokio::test]
async fn kid_selects_among_keys_for_rotation() {
    let rig = Rig::with(|b| b.decryption_keys(rp_keys(&[("old", 0), ("new", 1)]))).await;
    for (kid, i) in [("new", 1), ("old", 0), ("unannounced", 1)] {
        rig.emulator.set_rp_encryption_key(emulator_key(kid, i));
        let browser = Browser::new();
        let page = rig.sign_in(&browser, "/me").await;
        assert_eq!(page.status, 200, "kid {kid}: {}", page.body);
    }
}
