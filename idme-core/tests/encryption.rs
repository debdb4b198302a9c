//! Encrypted ID tokens and userinfo (JWE, `RSA-OAEP` + `A256CBC-HS512`), in memory: the
//! emulator encrypts to the RP's public key as ID.me does once a certificate is
//! registered; the engine decrypts with the RP's private key and verifies the inner JWS.
//! Decryption happens only where it is configured (and is then required), never for
//! back-channel logout tokens, and signed userinfo must name the issuer and this client.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use idme_core::{DecryptionKeys, LoginOptions, ResponseType};
use idme_testkit::pair::{Pair, assert_attempt_refused, signed_in};
use idme_testkit::{Fault, Persona, RpEncryptionKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

const NOT_VERIFIED: &str = "could not be verified";

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

fn emulator_key(kid: &str, i: usize) -> RpEncryptionKey {
    RpEncryptionKey {
        kid: Some(kid.to_owned()),
        public_key_pem: keys()[i].1.clone(),
    }
}

/// Everything logged on this thread while the guard lives (the engine, the emulator and
/// the test share the current-thread runtime).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

async fn refused(pair: &Pair) {
    let attempt = pair.attempt(&LoginOptions::new()).await;
    assert_attempt_refused(&attempt, 400, NOT_VERIFIED);
}

#[tokio::test]
async fn encrypted_id_token_and_userinfo_sign_in() {
    for rt in [
        ResponseType::Code,
        ResponseType::IdTokenToken,
        ResponseType::CodeIdToken,
    ] {
        let pair =
            Pair::new(|b| b.response_type(rt).decryption_keys(rp_keys(&[("rp-1", 0)]))).await;
        pair.emulator
            .set_rp_encryption_key(Some(emulator_key("rp-1", 0)));
        let mut browser = pair.sign_in().await;
        let user = pair.authenticate(&mut browser).await.expect("a session");
        assert_eq!(user.user.sub(), Persona::Veteran.sub(), "{rt}");
        assert_eq!(
            user.user.to_json()["claims"]["fname"],
            "Vera",
            "decrypted userinfo"
        );
    }
}

#[tokio::test]
async fn encrypted_responses_without_a_key_are_refused_and_logged_below_error() {
    // The provider (or whoever forged the callback) is at fault, not the configuration:
    // a 400, and nothing is decrypted.
    let (logs, _guard) = Logs::capture();
    let pair = Pair::new(|b| b).await;
    pair.emulator
        .set_rp_encryption_key(Some(emulator_key("rp-1", 0)));
    refused(&pair).await;
    let logs = logs.text();
    assert!(
        logs.contains("no decryption key is configured"),
        "the refusal is logged: {logs}"
    );
    assert!(!logs.contains(" ERROR "), "no ERROR-level log: {logs}");
}

#[tokio::test]
async fn a_wrong_key_is_a_clear_error_and_no_session() {
    let pair = Pair::new(|b| b.decryption_keys(rp_keys(&[("rp-1", 0)]))).await;
    pair.emulator
        .set_rp_encryption_key(Some(emulator_key("rp-1", 1)));
    refused(&pair).await;
}

#[tokio::test]
async fn a_tampered_ciphertext_is_refused() {
    for rt in [ResponseType::Code, ResponseType::IdToken] {
        let pair =
            Pair::new(|b| b.response_type(rt).decryption_keys(rp_keys(&[("rp-1", 0)]))).await;
        pair.emulator
            .set_rp_encryption_key(Some(emulator_key("rp-1", 0)));
        pair.emulator.set_faults([Fault::TamperedCiphertext]);
        refused(&pair).await;
    }
}

#[tokio::test]
async fn kid_selects_among_keys_for_rotation() {
    let pair = Pair::new(|b| b.decryption_keys(rp_keys(&[("old", 0), ("new", 1)]))).await;
    for (kid, i) in [("new", 1), ("old", 0), ("unannounced", 1)] {
        pair.emulator
            .set_rp_encryption_key(Some(emulator_key(kid, i)));
        let attempt = pair.attempt(&LoginOptions::new()).await;
        assert!(
            signed_in(&attempt.reply),
            "kid {kid}: {}",
            attempt.reply.body
        );
    }
}

#[tokio::test]
async fn encrypted_logout_tokens_are_refused_unread() {
    let pair = Pair::new(|b| b.decryption_keys(rp_keys(&[("rp-1", 0)]))).await;
    pair.emulator
        .set_rp_encryption_key(Some(emulator_key("rp-1", 0)));
    let mut browser = pair.sign_in().await;
    // A valid logout token, encrypted to the RP's key: it would decrypt and verify.
    let token = pair
        .emulator
        .logout_token(Persona::Veteran, serde_json::Value::Null);
    let jwe = emulator_key("rp-1", 0).encrypt(&token).unwrap();
    let deliver = |t: &str| {
        let body = format!("logout_token={t}");
        let idme = pair.idme.clone();
        async move {
            idme.backchannel_logout(Some("application/x-www-form-urlencoded"), body.as_bytes())
                .await
        }
    };
    assert_eq!(deliver(&jwe).await.status, 400);
    assert!(
        pair.authenticate(&mut browser).await.is_ok(),
        "not logged out"
    );
    // The same token signed but not encrypted is accepted: no downgrade rule here.
    assert_eq!(deliver(&token).await.status, 200);
    assert!(pair.authenticate(&mut browser).await.is_err(), "logged out");
}

#[tokio::test]
async fn signed_userinfo_must_name_the_issuer_and_this_client() {
    for fault in [
        Fault::UserinfoWrongIssuer,
        Fault::UserinfoWrongAudience,
        Fault::UserinfoOmitIssAud,
    ] {
        let (logs, _guard) = Logs::capture();
        let pair = Pair::new(|b| b).await;
        pair.emulator.set_faults([fault.clone()]);
        refused(&pair).await;
        assert!(
            logs.text().contains("signed userinfo"),
            "{fault:?}: {}",
            logs.text()
        );
    }
    // Encrypted (JWE around the JWS) userinfo gets the same checks.
    let pair = Pair::new(|b| b.decryption_keys(rp_keys(&[("rp-1", 0)]))).await;
    pair.emulator
        .set_rp_encryption_key(Some(emulator_key("rp-1", 0)));
    pair.emulator.set_faults([Fault::UserinfoWrongAudience]);
    refused(&pair).await;
}

#[tokio::test]
async fn with_a_decryption_key_plain_responses_are_a_downgrade() {
    // Plain ID token (the emulator encrypts nothing).
    let (logs, _guard) = Logs::capture();
    let pair = Pair::new(|b| b.decryption_keys(rp_keys(&[("rp-1", 0)]))).await;
    refused(&pair).await;
    assert!(
        logs.text().contains("unencrypted ID token"),
        "{}",
        logs.text()
    );
    // Encrypted ID token, plain userinfo.
    pair.emulator
        .set_rp_encryption_key(Some(emulator_key("rp-1", 0)));
    pair.emulator.set_faults([Fault::PlainJsonUserinfo]);
    refused(&pair).await;
    assert!(
        logs.text().contains("unencrypted userinfo"),
        "{}",
        logs.text()
    );
    // Both encrypted: signed in.
    pair.emulator.clear_faults();
    assert!(signed_in(&pair.attempt(&LoginOptions::new()).await.reply));
}
