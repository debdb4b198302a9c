//! Consent for the code + PKCE relay (RFC 8252 §8.6) in real headless Chromium: a local
//! program opens the browser at `/auth/authorize` with its own loopback redirect and PKCE
//! challenge, as any program on the person's machine can. The person signs in with ID.me;
//! the program gets no code until the person clicks "Allow" on the consent page, which
//! names the client and where they go back to; then the code comes back to its loopback
//! listener and works once. Against each example app (their default client registers
//! `http://127.0.0.1/callback`).

use std::time::Duration;

use idme_e2e::Target;
use idme_e2e::apps::{DEVICE_CLIENT_NAME, OAuthHttp, get_bearer};
use idme_e2e::loopback_app::LoopbackApp;
use idme_e2e::webdriver::{ChromeSession, DEFAULT_TIMEOUT};
use idme_testkit::{EmulatorConfig, Persona};
use oauth2::{AuthorizationCode, TokenResponse as _};

async fn consent_in_chromium(package: &str) {
    let config = EmulatorConfig {
        auto_user: None,
        ..EmulatorConfig::default()
    };
    let target = Target::start_with(package, config, &[]).await;
    let base = target.app.base.clone();

    // The local program: a loopback listener, its own PKCE pair, the browser opened.
    let LoopbackApp {
        client,
        port,
        redirect: _,
        url,
        state,
        verifier,
        came_back,
    } = LoopbackApp::start(&base).await;

    let browser = ChromeSession::start(&format!("{package}-consent")).await;
    browser.attach(&target.app.log);
    browser.goto(url.as_str()).await;
    browser
        .wait_for_url_prefix(
            &format!("{}/oauth/authorize", target.emulator.base_url()),
            DEFAULT_TIMEOUT,
        )
        .await;
    browser.click_id("persona-veteran").await;
    browser
        .wait_for_css("button[name=decision][value=allow]", DEFAULT_TIMEOUT)
        .await;
    let page = browser.body_text().await;
    browser
        .ensure(
            page.contains(DEVICE_CLIENT_NAME) && page.contains(&format!("127.0.0.1:{port}")),
            format!("the consent page names the client and where it goes back: {page}"),
        )
        .await;
    // Signed in, on the consent page: the program has heard nothing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    browser
        .ensure(
            !came_back.is_finished(),
            "no code reached the program before the person allowed",
        )
        .await;

    browser
        .click_css("button[name=decision][value=allow]")
        .await;
    let back = tokio::time::timeout(DEFAULT_TIMEOUT, came_back).await;
    let Ok(Ok(back)) = back else {
        let text = browser.body_text().await;
        browser
            .fail(format!(
                "the browser did not come back to the program: {text}"
            ))
            .await;
    };
    browser.ensure_no_csp_violation().await;
    browser.close().await;
    assert_eq!(back.path(), "/callback");
    let param = |k: &str| {
        back.query_pairs()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some(state.secret().as_str()));
    assert_eq!(param("iss").as_deref(), Some(base.as_str()));
    let code = param("code").expect("a code");
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&OAuthHttp::default())
        .await
        .unwrap_or_else(|e| panic!("the code is exchanged: {e:?}"));
    let me = get_bearer(&target.url("/me"), token.access_token().secret()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["sub"], Persona::Veteran.sub());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_in_chromium_axum() {
    consent_in_chromium("idme-example-axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_in_chromium_actix() {
    consent_in_chromium("idme-example-actix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_in_chromium_rocket() {
    consent_in_chromium("idme-example-rocket").await;
}
