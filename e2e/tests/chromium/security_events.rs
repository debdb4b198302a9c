//! ID.me's security events in real headless Chromium, against each example app as a real
//! process: the person signs in (through the single-page app), ID.me (the emulator, from
//! its page for developers) says the account was disabled, and the next page load is
//! signed out.

use idme_e2e::Target;
use idme_e2e::webdriver::{ChromeSession, DEFAULT_TIMEOUT};

async fn account_disabled_signs_the_browser_out(package: &str) {
    let target = Target::start_with_events(package, &[]).await;
    let base = target.app.base.clone();
    let browser = ChromeSession::start(&format!("{package}-security-events")).await;
    browser.attach(&target.app.log);

    crate::spa::sign_in_on_the_spa(&browser, &base).await;

    // The emulator's page for developers: "account disabled" for the persona just signed in.
    browser
        .goto(&format!("{}/testkit/events", target.emulator.base_url()))
        .await;
    browser.click_id("veteran-account-disabled").await;
    let outcome = browser.wait_for_id("outcome", DEFAULT_TIMEOUT).await;
    let text = outcome.text().await.unwrap_or_default();
    browser
        .ensure(
            text.contains("the application accepted it"),
            format!("the app accepted the event: {text}"),
        )
        .await;
    let sent = target.emulator.sent_security_events();
    browser
        .ensure(
            sent.len() == 1 && sent[0].statuses == [Some(202)],
            format!("one delivery, answered 202: {sent:?}"),
        )
        .await;

    // The next page load: signed out.
    browser.goto(&format!("{base}/spa")).await;
    browser
        .wait_for_css("body[data-state=signed-out]", DEFAULT_TIMEOUT)
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_disabled_signs_the_browser_out_axum() {
    account_disabled_signs_the_browser_out("idme-example-axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_disabled_signs_the_browser_out_actix() {
    account_disabled_signs_the_browser_out("idme-example-actix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_disabled_signs_the_browser_out_rocket() {
    account_disabled_signs_the_browser_out("idme-example-rocket").await;
}
