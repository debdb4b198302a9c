//! The device flow end to end with the person's side in real headless Chromium: the
//! command-line example's `device-login --app` polls as the device while the person opens
//! the printed URL, signs in at the emulator's page, types the code and allows; then
//! `whoami --app` shows them. Against each example app.

use idme_e2e::Target;
use idme_e2e::apps::DEVICE_CLIENT;
use idme_e2e::cli::CliHome;
use idme_e2e::webdriver::{ChromeSession, DEFAULT_TIMEOUT};
use idme_testkit::{EmulatorConfig, Persona};

/// The first line of `device-login`: `To sign in, open <uri> and enter the code <code>`.
fn uri_and_code(stderr: &str) -> (String, String) {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("To sign in, open "))
        .unwrap_or_else(|| panic!("no instructions on stderr: {stderr}"));
    let (uri, code) = line
        .split_once(" and enter the code ")
        .unwrap_or_else(|| panic!("no code in {line:?}"));
    (uri.to_owned(), code.trim().to_owned())
}

async fn device_flow_in_chromium(package: &str) {
    let config = EmulatorConfig {
        auto_user: None,
        ..EmulatorConfig::default()
    };
    let target = Target::start_with(package, config, &[("IDME_APP_CLIENTS", DEVICE_CLIENT)]).await;
    let base = target.app.base.clone();
    let cli = CliHome::new("device-chromium");
    let mut login = cli.spawn(&["device-login", "--app", &base]).await;
    login.url_after("Or open this URL: ").await;
    let (uri, code) = uri_and_code(&login.stderr_so_far());
    assert_eq!(uri, format!("{base}/auth/device"));

    // The person types the short URL, signs in with ID.me, then types the code.
    let browser = ChromeSession::start(&format!("{package}-device-flow")).await;
    browser.attach(&target.app.log);
    browser.goto(&uri).await;
    browser
        .wait_for_url_prefix(
            &format!("{}/oauth/authorize", target.emulator.base_url()),
            DEFAULT_TIMEOUT,
        )
        .await;
    browser.click_id("persona-veteran").await;
    browser
        .wait_for_url_prefix(&format!("{base}/auth/device"), DEFAULT_TIMEOUT)
        .await;
    let input = browser
        .wait_for_css("input[name=user_code]", DEFAULT_TIMEOUT)
        .await;
    // Lower case and without the dash, as people type; Enter submits.
    let typed = format!("{}\u{E007}", code.replace('-', "").to_lowercase());
    if let Err(e) = input.send_keys(&typed).await {
        browser.fail(format!("typing the code: {e}")).await;
    }
    browser
        .wait_for_css("button[name=decision][value=allow]", DEFAULT_TIMEOUT)
        .await;
    let page = browser.body_text().await;
    browser
        .ensure(
            page.contains(&code) && page.contains(DEVICE_CLIENT) && page.contains("matches"),
            format!("the confirmation names the client and the code to compare: {page}"),
        )
        .await;
    // RFC 8628 §5.4: when and from where the device (the CLI, on loopback) asked.
    browser
        .ensure(
            page.contains("UTC") && (page.contains("127.0.0.1") || page.contains("unknown")),
            format!("the confirmation says when and from where the device asked: {page}"),
        )
        .await;
    browser
        .click_css("button[name=decision][value=allow]")
        .await;
    let deadline = std::time::Instant::now() + DEFAULT_TIMEOUT;
    while !browser.body_text().await.contains("Device connected") {
        if std::time::Instant::now() > deadline {
            let text = browser.body_text().await;
            browser
                .fail(format!("no \"Device connected\": {text}"))
                .await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    browser.ensure_no_csp_violation().await;

    let login = login.finish().await;
    browser
        .ensure(login.code() == 0, format!("device-login: {login}"))
        .await;
    browser.close().await;
    let whoami = cli.run(&["whoami", "--app", &base]).await;
    assert_eq!(whoami.code(), 0, "{whoami}");
    let me: serde_json::Value = serde_json::from_str(whoami.stdout.trim()).expect("JSON");
    assert_eq!(me["sub"], Persona::Veteran.sub(), "{me}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_in_chromium_axum() {
    device_flow_in_chromium("idme-example-axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_in_chromium_actix() {
    device_flow_in_chromium("idme-example-actix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_in_chromium_rocket() {
    device_flow_in_chromium("idme-example-rocket").await;
}
