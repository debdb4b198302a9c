//! The command-line example's `login --no-browser` finished in real headless Chromium: the
//! test reads the URL the app prints on stderr, as a person on an SSH session would, and
//! drives Chromium through the provider's pages to the app's loopback listener.

use idme_e2e::cli::{CliHome, CliProcess, CliRun, native_provider};
use idme_e2e::oidc_provider::SUB;
use idme_e2e::webdriver::{ChromeSession, DEFAULT_TIMEOUT};
use idme_testkit::Persona;
use url::Url;

/// Checks the printed URL asks for a loopback redirect on a port the app bound, with PKCE
/// S256 and no secret; returns the redirect URI.
fn loopback_redirect_of(url: &Url) -> String {
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let redirect = query.get("redirect_uri").expect("a redirect_uri");
    let parsed = Url::parse(redirect).expect("the redirect_uri is a URL");
    assert_eq!(
        (parsed.scheme(), parsed.host_str(), parsed.path()),
        ("http", Some("127.0.0.1"), "/callback"),
        "{url}"
    );
    assert!(parsed.port().is_some_and(|p| p != 0), "a bound port: {url}");
    assert_eq!(
        query.get("code_challenge_method").map(String::as_str),
        Some("S256"),
        "{url}"
    );
    assert!(!query.contains_key("client_secret"), "{url}");
    redirect.clone()
}

/// Waits for the app's callback page in `browser` and checks it says the tab can be closed.
async fn assert_close_this_tab(browser: &ChromeSession, redirect: &str) {
    browser.wait_for_url_prefix(redirect, DEFAULT_TIMEOUT).await;
    let text = browser.body_text().await;
    browser
        .ensure(
            text.to_lowercase().contains("close this tab"),
            format!("the app's loopback page says the tab can be closed: {text:?}"),
        )
        .await;
}

/// Waits for the app to exit 0 with `Signed in as <line>`.
async fn assert_signed_in(browser: &ChromeSession, login: CliProcess, line: &str) -> CliRun {
    let run = login.finish().await;
    browser
        .ensure(
            run.code() == 0 && run.stdout.lines().any(|l| l.trim() == line),
            format!("login prints {line:?} and exits 0: {run}"),
        )
        .await;
    run
}

/// Fills and submits the page's element matching `selector` (after waiting for it).
async fn type_into(browser: &ChromeSession, selector: &str, text: &str) {
    let input = browser.wait_for_css(selector, DEFAULT_TIMEOUT).await;
    if let Err(e) = input.send_keys(text).await {
        browser.fail(format!("typing into {selector}: {e}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_browser_login_in_chromium_against_oidc_provider() {
    let provider = native_provider().await;
    let cli = CliHome::for_provider("chromium-oidc-provider", &provider);
    let mut login = cli.spawn(&["login", "--no-browser"]).await;
    let url = login.sign_in_url().await;
    assert!(
        url.as_str()
            .starts_with(&format!("{}/auth?", provider.issuer())),
        "the provider's authorization endpoint: {url}"
    );
    let redirect = loopback_redirect_of(&url);

    let browser = ChromeSession::start("cli-no-browser-oidc-provider").await;
    browser.goto(url.as_str()).await;
    type_into(&browser, "input[name=login]", SUB).await;
    type_into(&browser, "input[name=password]", "interop-password").await;
    browser.click_css("button[type=submit]").await;
    browser
        .wait_for_css("input[name=prompt][value=consent]", DEFAULT_TIMEOUT)
        .await;
    browser.click_css("button[type=submit]").await;
    assert_close_this_tab(&browser, &redirect).await;
    assert_signed_in(&browser, login, &format!("Signed in as Interop ({SUB})")).await;
    browser.close().await;

    assert!(
        !cli.report_file().exists(),
        "--no-browser opened no browser (BROWSER was set)"
    );
    let whoami = cli.run(&["whoami"]).await;
    assert_eq!(whoami.code(), 0, "{whoami}");
    let me: serde_json::Value = serde_json::from_str(whoami.stdout.trim()).expect("JSON");
    assert_eq!(me["sub"], SUB, "{me}");
}

/// Nothing configured: the app signs in against its built-in emulator, whose sign-in page
/// Chromium shows; the veteran persona's verification reaches `whoami`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_browser_login_in_chromium_against_the_built_in_emulator() {
    let cli = CliHome::new("chromium-emulator");
    let mut login = cli.spawn(&["login", "--no-browser"]).await;
    let url = login.sign_in_url().await;
    let redirect = loopback_redirect_of(&url);

    let browser = ChromeSession::start("cli-no-browser-emulator").await;
    browser.goto(url.as_str()).await;
    browser.click_id("persona-veteran").await;
    assert_close_this_tab(&browser, &redirect).await;
    let line = format!("Signed in as Vera ({})", Persona::Veteran.sub());
    assert_signed_in(&browser, login, &line).await;
    browser.close().await;

    let whoami = cli.run(&["whoami"]).await;
    assert_eq!(whoami.code(), 0, "{whoami}");
    let me: serde_json::Value = serde_json::from_str(whoami.stdout.trim()).expect("JSON");
    assert_eq!(me["sub"], Persona::Veteran.sub(), "{me}");
    assert!(
        me["verification"].to_string().contains("military"),
        "the veteran's verification group: {me}"
    );
}
