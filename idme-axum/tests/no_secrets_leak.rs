//! Secrets never leak: every flow runs against the emulator (the six OIDC response types
//! in each of their response modes, an encrypted sign-in, a refresh, logout, back-channel logout, a failed
//! sign-in) with a tracing subscriber at TRACE capturing every line, and every public
//! type on the path is `Debug`-printed; then no token, client secret, authorization
//! code, cookie value, state, nonce, PKCE verifier or key material may appear anywhere
//! in that output.

mod common;

use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use common::{Rig, SESSION};
use idme_core::{
    CallbackInput, CookieKeys, DecryptionKeys, IdmeBuilder, LoginOptions, MemoryStore,
    RequestCookies, ResponseMode, ResponseType, SessionStore,
};
use idme_testkit::browser::{Browser, Page};
use idme_testkit::{EmulatorConfig, Fault, Persona, RpEncryptionKey};

/// Every line any subscriber-visible code logs, at every level.
fn log_capture() -> Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&buf);
        // The emulator's own logs are the provider's, not the library's.
        let filter = tracing_subscriber::EnvFilter::new("trace,idme_testkit=off");
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || Capture(Arc::clone(&writer)))
            .init();
        buf
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// 32 bytes of cookie key material, known to the test so it can look for them.
const COOKIE_MASTER: [u8; 32] = *b"k3y-material-never-to-be-logged!";

/// The secrets seen so far, each with what it is.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, what: &str, value: &str) {
        let value = value.trim();
        // Short values ("0", "bearer") are not secrets and would match by chance.
        if value.len() >= 12 {
            self.0.push((what.to_owned(), value.to_owned()));
        }
    }

    fn add_set_cookies(&mut self, page: &Page) {
        for header in page.set_cookies() {
            let pair = header.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.add(&format!("cookie {name}"), value);
            }
        }
    }

    fn add_browser(&mut self, browser: &Browser) {
        for c in browser.cookies() {
            self.add(&format!("cookie {}", c.name), &c.value);
        }
    }

    fn add_emulator(&mut self, rig: &Rig) {
        for s in rig.emulator.issued_secrets() {
            self.add("code, token, state, nonce or PKCE verifier", &s);
        }
        self.add("client secret", rig.emulator.client_secret());
    }
}

fn cookie_header(browser: &Browser) -> String {
    browser
        .cookies()
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ")
}

fn cookie_keys() -> CookieKeys {
    CookieKeys::from_masters([COOKIE_MASTER]).unwrap()
}

/// A sign-in all the way, recording the cookies set on the way (the pending-login
/// cookie on the first hop; the session cookie, as refreshed, in the browser's jar).
async fn sign_in(rig: &Rig, browser: &Browser, secrets: &mut Secrets) -> Page {
    let start = browser.get(&rig.url("/auth/login?return_to=/me")).await;
    secrets.add_set_cookies(&start);
    let page = browser.navigate(start, None).await;
    secrets.add_set_cookies(&page);
    secrets.add_browser(browser);
    page
}

/// The callback of a `query`-mode login as an adapter hands it to the engine, finished
/// in-process: the request, the engine's answer and the session cookie it sets.
async fn print_callback(rig: &Rig, secrets: &mut Secrets, debug: &mut String) {
    let browser = Browser::new();
    let at = rig.until_callback(&browser).await;
    secrets.add_browser(&browser);
    let callback = at
        .location()
        .expect("the provider redirects to the callback");
    let input = CallbackInput::get(callback.query());
    show(debug, "CallbackInput", &input);
    let header = cookie_header(&browser);
    let cookies = RequestCookies::from_header_values([header.as_str()]);
    let done = rig.idme.callback(input, &cookies).await;
    assert_eq!(done.status, 303, "{}", done.body);
    for c in &done.set_cookies {
        secrets.add(&format!("cookie {}", c.name), &c.value);
        show(debug, "SetCookie", c);
    }
    show(debug, "Reply", &done);
}

/// Appends the `Debug` output of `value` as one line labelled with its type.
fn show(debug: &mut String, label: &str, value: &dyn std::fmt::Debug) {
    debug.push_str(&format!("[{label}] {value:?}\n"));
}

/// Everything the engine hands out for the browser's session, Debug-printed.
async fn print_session(rig: &Rig, browser: &Browser, debug: &mut String) {
    let header = cookie_header(browser);
    let cookies = RequestCookies::from_header_values([header.as_str()]);
    show(debug, "RequestCookies", &cookies);
    match rig.idme.authenticate(&cookies).await {
        Ok(auth) => {
            show(debug, "Authenticated", &auth);
            show(debug, "idme_core::IdmeUser", &auth.user);
            show(debug, "AccessToken", &auth.user.access_token());
            show(
                debug,
                "idme_axum::IdmeUser",
                &idme_axum::IdmeUser(auth.user.clone()),
            );
            show(debug, "Verification", &auth.user.verification());
            for c in &auth.set_cookies {
                show(debug, "SetCookie", c);
            }
        }
        Err(denied) => show(debug, "Denied", &denied),
    }
}

const FLOWS: &[(ResponseType, ResponseMode)] = &[
    (ResponseType::Code, ResponseMode::Query),
    (ResponseType::Code, ResponseMode::Fragment),
    (ResponseType::Code, ResponseMode::FormPost),
    (ResponseType::IdToken, ResponseMode::Fragment),
    (ResponseType::IdToken, ResponseMode::FormPost),
    (ResponseType::CodeIdToken, ResponseMode::Fragment),
    (ResponseType::CodeIdToken, ResponseMode::FormPost),
    (ResponseType::CodeToken, ResponseMode::Fragment),
    (ResponseType::CodeToken, ResponseMode::FormPost),
    (ResponseType::IdTokenToken, ResponseMode::Fragment),
    (ResponseType::IdTokenToken, ResponseMode::FormPost),
    (ResponseType::CodeIdTokenToken, ResponseMode::Fragment),
    (ResponseType::CodeIdTokenToken, ResponseMode::FormPost),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_or_debug_output() {
    let log = log_capture();
    let mut secrets = Secrets::default();
    let mut debug = String::new();

    // Key material the test configures.
    let master_b64 = base64::engine::general_purpose::STANDARD.encode(COOKIE_MASTER);
    secrets.add("cookie key (base64)", &master_b64);
    secrets.add(
        "cookie key (raw)",
        std::str::from_utf8(&COOKIE_MASTER).unwrap(),
    );
    let rsa_key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let pem = {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        rsa_key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    };
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        secrets.add("decryption key (PEM line)", line);
    }
    let decryption_keys = DecryptionKeys::none()
        .add_pem(Some("rp".into()), pem.as_bytes())
        .unwrap();
    show(&mut debug, "DecryptionKeys", &decryption_keys);
    show(&mut debug, "CookieKeys", &cookie_keys());

    // 1. Every response type in each of its response modes.
    for &(rt, mode) in FLOWS {
        let rig = Rig::with(|b| {
            b.response_type(rt)
                .response_mode(mode)
                .cookie_keys(cookie_keys())
        })
        .await;
        let browser = Browser::new();
        let page = sign_in(&rig, &browser, &mut secrets).await;
        assert_eq!(page.status, 200, "{rt} × {mode}: {}", page.body);
        assert!(browser.cookie(SESSION).is_some(), "{rt} × {mode}");
        print_session(&rig, &browser, &mut debug).await;
        if mode == ResponseMode::Query {
            print_callback(&rig, &mut secrets, &mut debug).await;
        }
        let builder = IdmeBuilder::new()
            .client_id(rig.emulator.client_id())
            .client_secret(rig.emulator.client_secret())
            .cookie_keys(cookie_keys())
            .decryption_keys(decryption_keys.clone())
            .redirect_uri(rig.url("/auth/callback"));
        show(&mut debug, "Idme", &rig.idme);
        show(&mut debug, "IdmeConfig", rig.idme.config());
        show(&mut debug, "IdmeBuilder", &builder);
        show(&mut debug, "IdmeConfig", &builder.build().unwrap());
        // What the engine returns to start a login: a Reply with the pending cookie.
        let login = rig
            .idme
            .login_with(&LoginOptions::new().return_to("/me"))
            .await;
        for c in &login.set_cookies {
            secrets.add(&format!("cookie {}", c.name), &c.value);
        }
        // The state and nonce of this login (never sent to the provider).
        let location = url::Url::parse(login.header("location").unwrap()).unwrap();
        for (k, v) in location.query_pairs() {
            if k == "state" || k == "nonce" {
                secrets.add(&k, &v);
            }
        }
        show(
            &mut debug,
            "LoginOptions",
            &LoginOptions::new().return_to("/me"),
        );
        show(&mut debug, "Reply", &login);
        for c in &login.set_cookies {
            show(&mut debug, "SetCookie", c);
        }
        secrets.add_emulator(&rig);
    }

    // 1b. An encrypted sign-in: ID token and userinfo as JWE, opened with the RP's key.
    let public_pem = {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        rsa_key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
    };
    let emulator_config = EmulatorConfig {
        rp_encryption_key: Some(RpEncryptionKey {
            kid: Some("rp".into()),
            public_key_pem: public_pem,
        }),
        ..EmulatorConfig::default()
    };
    let rig = Rig::with_emulator(emulator_config, |b| {
        b.response_type(ResponseType::CodeIdToken)
            .cookie_keys(cookie_keys())
            .decryption_keys(decryption_keys.clone())
    })
    .await;
    let browser = Browser::new();
    let page = sign_in(&rig, &browser, &mut secrets).await;
    assert_eq!(page.status, 200, "encrypted: {}", page.body);
    print_session(&rig, &browser, &mut debug).await;
    show(&mut debug, "IdmeConfig", rig.idme.config());
    secrets.add_emulator(&rig);

    // 2. A refresh (every request refreshes), with sessions in a store; then logout.
    let store = Arc::new(MemoryStore::new());
    let rig = Rig::with(|b| {
        b.cookie_keys(cookie_keys())
            .refresh_margin(Duration::from_secs(400))
            .session_store(Arc::clone(&store))
    })
    .await;
    let browser = Browser::new();
    let page = sign_in(&rig, &browser, &mut secrets).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let token_calls = rig.emulator.stats().token;
    let me = browser.get(&rig.url("/me")).await;
    secrets.add_set_cookies(&me);
    assert_eq!(me.status, 200);
    // The exchange, the refresh that gives attributes.json its own access token, and at
    // least one session refresh (the margin exceeds the token's lifetime).
    assert!(
        token_calls >= 3,
        "the session was refreshed: {token_calls} token calls"
    );
    print_session(&rig, &browser, &mut debug).await;
    let header = cookie_header(&browser);
    let cookies = RequestCookies::from_header_values([header.as_str()]);
    if let Ok(auth) = rig.idme.authenticate(&cookies).await {
        let record = store.load(auth.user.session_id()).await.unwrap();
        show(&mut debug, "Record", &record);
        show(&mut debug, "MemoryStore", &store);
    }
    let logout = browser
        .post_form_with(
            &rig.url("/auth/logout"),
            &[],
            &[("origin", rig.app.as_str())],
        )
        .await;
    secrets.add_set_cookies(&logout);
    assert_eq!(logout.status, 303, "logout: {}", logout.body);
    let after = rig
        .idme
        .logout(&cookies, Some(rig.app.as_str()), Some("same-origin"))
        .await;
    show(&mut debug, "Reply", &after);
    secrets.add_emulator(&rig);

    // 3. Back-channel logout of a signed-in user.
    let browser = Browser::new();
    let page = sign_in(&rig, &browser, &mut secrets).await;
    assert_eq!(page.status, 200);
    let status = rig
        .emulator
        .backchannel_logout(&rig.url("/auth/backchannel-logout"), Persona::Veteran)
        .await
        .unwrap();
    assert_eq!(status, 200);
    print_session(&rig, &browser, &mut debug).await;
    secrets.add_emulator(&rig);

    // 4. A failed sign-in (a forged ID token signature), and a garbage session cookie.
    let rig = Rig::with(|b| b.cookie_keys(cookie_keys())).await;
    rig.emulator.set_faults([Fault::BadSignature]);
    let browser = Browser::new();
    let page = sign_in(&rig, &browser, &mut secrets).await;
    assert_ne!(page.status, 200, "the forged token is refused");
    let garbage = RequestCookies::from_header_values(["idme_session=AAAAsealed-garbage-value"]);
    if let Err(denied) = rig.idme.authenticate(&garbage).await {
        show(&mut debug, "Denied", &denied);
        let guard = idme_core::adapter::GuardRequest {
            idme: Some(&rig.idme),
            setup: "test",
            accept: Some("text/html"),
            path_and_query: "/me",
            authorization: None,
            method: "GET",
            provenance: Default::default(),
            sec_fetch_mode: None,
        };
        let cookies = garbage.clone();
        let rejection = idme_core::adapter::RequestAuth::new()
            .user(&guard, move || cookies)
            .await
            .unwrap_err();
        show(&mut debug, "Rejection", &rejection);
        show(&mut debug, "Reply", &rejection.reply);
    }
    let error = IdmeBuilder::new().client_id("x").build().unwrap_err();
    show(&mut debug, "Error", &error);
    show(&mut debug, "Error (Display)", &format_args!("{error}"));
    secrets.add_emulator(&rig);

    // Everything logged and printed.
    std::io::stdout().flush().ok();
    let logged = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(
        logged.contains("idme"),
        "the capture sees the library's logs"
    );
    assert!(
        secrets.0.len() > 100,
        "the test saw the secrets: {}",
        secrets.0.len()
    );
    // Each leak: what leaked, and where (the log, or the Debug output of which type).
    let mut leaks = std::collections::BTreeSet::new();
    let lines = logged
        .lines()
        .map(|l| ("log".to_owned(), l))
        .chain(debug.lines().map(|l| {
            let label = l[1..].split(']').next().unwrap_or_default();
            (format!("Debug of {label}"), l)
        }));
    let lines: Vec<(String, &str)> = lines.collect();
    for (what, value) in &secrets.0 {
        let mut needles = vec![value.as_str()];
        if value.len() > 40 {
            // A truncated copy leaks too: look for the tail (a token's signature, a seal's tag).
            needles.push(&value[value.len() - 24..]);
        }
        for (place, line) in &lines {
            if needles.iter().any(|n| line.contains(n)) {
                let kind = if what.starts_with("cookie idme_login_") {
                    "cookie idme_login_*"
                } else {
                    what.as_str()
                };
                leaks.insert(format!("{kind} in {place}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} kinds of leak:\n{}",
        leaks.len(),
        leaks.into_iter().collect::<Vec<_>>().join("\n")
    );
}
