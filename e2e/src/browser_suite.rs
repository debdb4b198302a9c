//! The browser suite: each example app driven by real headless Chromium
//! ([`crate::webdriver`]) through the emulator's HTML sign-in page, one flow per test.
//! [`browser_tests!`](crate::browser_tests) generates it for one example package.

use std::time::Duration;

use idme_testkit::{EmulatorConfig, Persona};
use serde_json::Value;

use crate::process::Target;
use crate::scenarios::SESSION;
use crate::webdriver::{ChromeSession, DEFAULT_TIMEOUT};

/// Starts the emulator showing its sign-in page (no automatic user) and the app for it.
async fn target(package: &str, response_type: &str, mode: &str) -> Target {
    let config = EmulatorConfig {
        auto_user: None,
        ..EmulatorConfig::default()
    };
    Target::start_with(
        package,
        config,
        &[
            ("IDME_RESPONSE_TYPE", response_type),
            ("IDME_RESPONSE_MODE", mode),
        ],
    )
    .await
}

/// Opens the app's home page, clicks "Sign in" and waits for the emulator's sign-in page.
async fn open_sign_in_page(browser: &ChromeSession, target: &Target) {
    browser.goto(&target.url("/")).await;
    browser.click_id("sign-in").await;
    browser
        .wait_for_url_prefix(
            &format!("{}/oauth/authorize", target.emulator.base_url()),
            DEFAULT_TIMEOUT,
        )
        .await;
    browser
        .wait_for_id("persona-veteran", DEFAULT_TIMEOUT)
        .await;
}

/// Fails unless the browser shows no CSP violation so far.
async fn assert_no_csp_violations(browser: &ChromeSession, what: &str) {
    let violations = browser.csp_violations().await;
    if !violations.is_empty() {
        let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
        browser
            .fail(format!(
                "{what}: the browser reported CSP violations:\n{}",
                lines.join("\n")
            ))
            .await;
    }
}

/// The whole round trip in a real browser with `response_type` × `mode`: home page →
/// "Sign in" → the emulator's page → "veteran" → `/me` with the veteran's `sub` → home →
/// "Sign out" → home, signed out, and `/me` asks to sign in again.
pub async fn signs_in_and_out(package: &str, test: &str, response_type: &str, mode: &str) {
    let flow = format!("{response_type} × {mode}");
    let target = target(package, response_type, mode).await;
    let browser = ChromeSession::start(&format!("{package}-{test}")).await;
    browser.attach(&target.app.log);

    open_sign_in_page(&browser, &target).await;
    browser.click_id("persona-veteran").await;
    browser
        .wait_for_url_prefix(&target.url("/me"), DEFAULT_TIMEOUT)
        .await;
    let text = browser.body_text().await;
    let me: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            browser
                .fail(format!("{flow}: /me is not JSON ({e}): {text}"))
                .await
        }
    };
    browser
        .ensure(
            me["sub"] == Persona::Veteran.sub(),
            format!("{flow}: /me shows the veteran's sub: {text}"),
        )
        .await;
    let cookies = browser.cookies().await;
    browser
        .ensure(
            cookies.iter().any(|(name, _)| name == SESSION),
            format!("{flow}: a session cookie is set: {cookies:?}"),
        )
        .await;
    assert_no_csp_violations(&browser, &flow).await;
    // A code flow exchanged its code; an implicit one never calls the token endpoint. (How
    // many calls a code flow makes — refreshes to read more user data — is the contract
    // suite's business.)
    let token_calls = target.emulator.stats().token;
    let code = response_type.split(' ').any(|w| w == "code");
    browser
        .ensure(
            (token_calls > 0) == code,
            format!("{flow}: {token_calls} token calls"),
        )
        .await;

    // Sign out: the home page's button POSTs to /auth/logout, through the provider's
    // logout and back to the home page, now showing the sign-in link again.
    browser.goto(&target.url("/")).await;
    browser
        .click_css("form[action=\"/auth/logout\"] button[type=\"submit\"]")
        .await;
    browser.wait_for_id("sign-in", DEFAULT_TIMEOUT).await;
    let url = browser.current_url().await;
    browser
        .ensure(
            url.as_str() == target.url("/"),
            format!("{flow}: sign-out ends on the home page, not {url}"),
        )
        .await;
    browser
        .ensure(
            target.emulator.stats().logout == 1,
            format!("{flow}: sign-out went through the provider's logout"),
        )
        .await;
    let cookies = browser.cookies().await;
    browser
        .ensure(
            !cookies.iter().any(|(name, _)| name == SESSION),
            format!("{flow}: no session cookie after sign-out: {cookies:?}"),
        )
        .await;
    browser.goto(&target.url("/me")).await;
    browser
        .wait_for_url_prefix(
            &format!("{}/oauth/authorize", target.emulator.base_url()),
            DEFAULT_TIMEOUT,
        )
        .await;
    browser
        .wait_for_id("persona-veteran", Duration::from_secs(5))
        .await;
    assert_no_csp_violations(&browser, &flow).await;
    browser.close().await;
}

/// The user presses Cancel on the provider's page: the app says "Sign-in cancelled" and
/// there is no session.
pub async fn cancel_shows_cancelled_page(package: &str, test: &str) {
    let target = target(package, "code", "query").await;
    let browser = ChromeSession::start(&format!("{package}-{test}")).await;
    browser.attach(&target.app.log);

    open_sign_in_page(&browser, &target).await;
    browser.click_id("cancel").await;
    browser
        .wait_for_url_prefix(&target.url("/auth/callback"), DEFAULT_TIMEOUT)
        .await;
    let heading = browser.wait_for_css("h1", DEFAULT_TIMEOUT).await;
    let heading = heading.text().await.unwrap_or_default();
    browser
        .ensure(
            heading == "Sign-in cancelled",
            format!("the callback shows \"Sign-in cancelled\", not {heading:?}"),
        )
        .await;
    let title = browser.title().await;
    browser
        .ensure(
            title == "Sign-in cancelled",
            format!("page title {title:?}"),
        )
        .await;
    let cookies = browser.cookies().await;
    browser
        .ensure(
            !cookies.iter().any(|(name, _)| name == SESSION),
            format!("no session after a cancelled sign-in: {cookies:?}"),
        )
        .await;
    browser.goto(&target.url("/")).await;
    browser
        .ensure(
            browser.has_css("#sign-in").await,
            "the home page still offers to sign in",
        )
        .await;
    browser.close().await;
}

/// Generates the browser suite for one example package: three sign-in flows (query,
/// fragment through the relay page, form_post), each signing out again, and Cancel.
#[macro_export]
macro_rules! browser_tests {
    ($package:literal) => {
        $crate::__browser_flows!($package;
            code_query_signs_in_and_out: "code", "query";
            id_token_token_fragment_signs_in_and_out: "id_token token", "fragment";
            code_id_token_form_post_signs_in_and_out: "code id_token", "form_post";
        );

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn cancel_shows_cancelled_page() {
            $crate::browser_suite::cancel_shows_cancelled_page(
                $package,
                "cancel_shows_cancelled_page",
            )
            .await;
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __browser_flows {
    ($package:literal; $($name:ident: $rt:literal, $mode:literal;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $crate::browser_suite::signs_in_and_out($package, stringify!($name), $rt, $mode).await;
        }
    )*};
}
