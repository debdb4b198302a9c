//! A loopback emulator with a public native client, and scripted browsers.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};

use idme_core::{Environment, Idme, IdmeBuilder, TokenAuthMethod};
use idme_native::{BrowserOpener, NativeClient};
use idme_testkit::browser::{Browser, Page};
use idme_testkit::{Emulator, EmulatorConfig, Persona};
use tokio::sync::mpsc;

/// The emulator (auto-signing-in `persona`) and an engine configured as its public client.
pub async fn setup(persona: Persona) -> (Emulator, Idme) {
    let emulator = Emulator::start(EmulatorConfig {
        redirect_uris: vec!["http://127.0.0.1/callback".into()],
        auto_user: Some(persona),
        public_client: true,
        // The logout tests need a provider logout URL (ID.me's discovery names none).
        end_session_endpoint: true,
        ..Default::default()
    })
    .await
    .expect("emulator starts");
    let config = IdmeBuilder::new()
        .environment(Environment::Custom(emulator.issuer()))
        .client_id(emulator.client_id())
        .token_auth(TokenAuthMethod::None)
        .redirect_uri("http://127.0.0.1/callback")
        .build_native()
        .expect("native config");
    (emulator, Idme::new(config))
}

/// An opener that hands each authorization URL to the test.
pub fn capturing() -> (BrowserOpener, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let opener = BrowserOpener::custom(move |url| {
        let _ = tx.send(url.to_owned());
        Ok(())
    });
    (opener, rx)
}

/// An opener that signs in like a browser: follows the emulator's redirect to the
/// loopback listener; the last page it saw is kept in `last`.
pub fn scripted() -> (BrowserOpener, Arc<Mutex<Option<Page>>>) {
    let last = Arc::new(Mutex::new(None));
    let seen = last.clone();
    let opener = BrowserOpener::custom(move |url| {
        let url = url.to_owned();
        let seen = seen.clone();
        tokio::spawn(async move {
            let browser = Browser::new();
            let first = browser.get(&url).await;
            let page = browser.navigate(first, None).await;
            *seen.lock().unwrap() = Some(page);
        });
        Ok(())
    });
    (opener, last)
}

/// The redirect the emulator answers the authorization URL with (the callback URL with
/// `code` and `state`), without following it.
pub async fn callback_url(authorize_url: &str) -> String {
    let page = Browser::new().get(authorize_url).await;
    page.location()
        .expect("a redirect to the callback")
        .to_string()
}

/// The `redirect_uri` and `state` parameters of an authorization URL.
pub fn redirect_and_state(authorize_url: &str) -> (String, String) {
    let url = url::Url::parse(authorize_url).unwrap();
    let get = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    (get("redirect_uri"), get("state"))
}

/// Whether something still listens on `port`.
pub async fn listening(port: u16) -> bool {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok()
}

/// The port of a URL.
pub fn port_of(url: &str) -> u16 {
    url::Url::parse(url).unwrap().port().unwrap()
}

/// A client of `idme` with `opener`.
pub fn client(idme: &Idme, opener: BrowserOpener) -> NativeClient {
    NativeClient::new(idme.clone()).browser(opener)
}
