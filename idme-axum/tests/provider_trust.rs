//! What the engine trusts from the provider and the browser: logout needs a same-origin
//! signal, encrypted tokens are decrypted only where encryption is configured (and then
//! required), and signed userinfo must name the issuer and this client.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::{Rig, SESSION, assert_failed};
use idme_core::DecryptionKeys;
use idme_testkit::browser::Browser;
use idme_testkit::{Fault, Persona, RpEncryptionKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

/// Everything logged on this thread while the guard lives (the app, the emulator and the
/// test share the current-thread runtime).
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

/// The RP's key pair (private PEM, public PEM), generated once per test process.
fn rp_pair() -> &'static (String, String) {
    static PAIR: OnceLock<(String, String)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let private = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        let public = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        (private, public)
    })
}

fn rp_keys() -> DecryptionKeys {
    DecryptionKeys::none()
        .add_pem(Some("rp-1".into()), rp_pair().0.as_bytes())
        .unwrap()
}

fn emulator_key() -> RpEncryptionKey {
    RpEncryptionKey {
        kid: Some("rp-1".into()),
        public_key_pem: rp_pair().1.clone(),
    }
}

// Finding 9: logout CSRF.

#[tokio::test]
async fn logout_without_a_same_origin_signal_is_refused() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let logout = rig.url("/auth/logout");
    for headers in [
        &[][..],
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "null")],
        &[
            ("origin", rig.app.as_str()),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        let page = browser.post_form_bare(&logout, &[], headers).await;
        assert_eq!(page.status, 403, "logout with {headers:?}: {}", page.body);
        assert!(page.set_cookie(SESSION).is_none(), "{headers:?}");
    }
    assert_eq!(
        browser.get(&rig.url("/me")).await.status,
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn logout_with_sec_fetch_site_same_origin_is_accepted() {
    for site in ["same-origin", "none"] {
        let rig = Rig::new().await;
        let browser = Browser::new();
        assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
        let page = browser
            .post_form_bare(&rig.url("/auth/logout"), &[], &[("sec-fetch-site", site)])
            .await;
        assert_eq!(page.status, 303, "{site}: {}", page.body);
        assert!(browser.cookie(SESSION).is_none(), "{site}");
    }
}

// Finding 8: decryption only where configured; never for back-channel logout tokens.

#[tokio::test]
async fn an_encrypted_token_without_a_key_is_a_400_and_no_error_log() {
    let (logs, _guard) = Logs::capture();
    let rig = Rig::new().await;
    rig.emulator.set_rp_encryption_key(Some(emulator_key()));
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_failed(&page, &browser, 400, "could not be verified");
    let logs = logs.text();
    assert!(
        logs.contains("no decryption key is configured"),
        "the refusal is logged: {logs}"
    );
    assert!(!logs.contains(" ERROR "), "no ERROR-level log: {logs}");
}

#[tokio::test]
async fn encrypted_logout_tokens_are_refused_unread() {
    let rig = Rig::with(|b| b.decryption_keys(rp_keys())).await;
    rig.emulator.set_rp_encryption_key(Some(emulator_key()));
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let url = rig.url("/auth/backchannel-logout");
    // A valid logout token, encrypted to the RP's key: it would decrypt and verify.
    let token = rig
        .emulator
        .logout_token(Persona::Veteran, serde_json::Value::Null);
    let jwe = emulator_key().encrypt(&token).unwrap();
    assert_eq!(
        rig.emulator.post_logout_token(&url, &jwe).await.unwrap(),
        400
    );
    assert_eq!(
        browser.get(&rig.url("/me")).await.status,
        200,
        "not logged out"
    );
    // The same token signed but not encrypted is accepted: no downgrade rule here.
    assert_eq!(
        rig.emulator.post_logout_token(&url, &token).await.unwrap(),
        200
    );
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 303, "logged out: back to the login");
}

// Finding 10: signed userinfo `iss`/`aud`; plain responses are a downgrade once a
// decryption key is configured.

#[tokio::test]
async fn signed_userinfo_must_name_the_issuer_and_this_client() {
    for fault in [
        Fault::UserinfoWrongIssuer,
        Fault::UserinfoWrongAudience,
        Fault::UserinfoOmitIssAud,
    ] {
        let (logs, _guard) = Logs::capture();
        let rig = Rig::new().await;
        rig.emulator.set_faults([fault.clone()]);
        let browser = Browser::new();
        let page = rig.sign_in(&browser, "/me").await;
        assert_failed(&page, &browser, 400, "could not be verified");
        assert!(
            logs.text().contains("signed userinfo"),
            "{fault:?}: {}",
            logs.text()
        );
    }
    // Encrypted (JWE around the JWS) userinfo gets the same checks.
    let rig = Rig::with(|b| b.decryption_keys(rp_keys())).await;
    rig.emulator.set_rp_encryption_key(Some(emulator_key()));
    rig.emulator.set_faults([Fault::UserinfoWrongAudience]);
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_failed(&page, &browser, 400, "could not be verified");
}

#[tokio::test]
async fn with_a_decryption_key_plain_responses_are_a_downgrade() {
    // Plain ID token (the emulator encrypts nothing).
    let (logs, _guard) = Logs::capture();
    let rig = Rig::with(|b| b.decryption_keys(rp_keys())).await;
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_failed(&page, &browser, 400, "could not be verified");
    assert!(
        logs.text().contains("unencrypted ID token"),
        "{}",
        logs.text()
    );
    // Encrypted ID token, plain userinfo.
    rig.emulator.set_rp_encryption_key(Some(emulator_key()));
    rig.emulator.set_faults([Fault::PlainJsonUserinfo]);
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_failed(&page, &browser, 400, "could not be verified");
    assert!(
        logs.text().contains("unencrypted userinfo"),
        "{}",
        logs.text()
    );
    // Both encrypted: signed in.
    rig.emulator.clear_faults();
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
}
