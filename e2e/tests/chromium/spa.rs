//! The example single-page app in real headless Chromium, against each example app as a
//! real process: it signs in through the emulator (a full-page navigation that comes back
//! to `/spa`), shows the user from `/auth/session`, calls `POST /api/action` and signs out.
//! A page on another origin (another port of the same host: same-site, so the browser
//! sends the `SameSite=Lax` session cookie) tries the action with a form post and with
//! `fetch` (credentials included): both are refused and perform nothing, and the session
//! is untouched. No CSP violation on the app's pages.

use std::time::Duration;

use idme_e2e::Target;
use idme_e2e::webdriver::{ChromeSession, DEFAULT_TIMEOUT};
use idme_testkit::Persona;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves the attacker's two pages on a port of its own: `/form` posts a form to the app's
/// action on load, `/fetch` calls it with `fetch` and `credentials: "include"`.
async fn attacker(action: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let action = action.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = conn.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let body = if head.starts_with("GET /form ") {
                    format!(
                        "<!doctype html><title>prize</title><form id=f method=post action=\"{action}\">\
                         <input name=x value=1></form><script>document.getElementById('f').submit()</script>"
                    )
                } else if head.starts_with("GET /fetch ") {
                    format!(
                        "<!doctype html><title>waiting</title><script>\
                         fetch('{action}', {{method: 'POST', credentials: 'include'}})\
                         .then(r => {{ document.title = 'answered ' + r.type; }})\
                         .catch(e => {{ document.title = 'failed ' + e.name; }});</script>"
                    )
                } else {
                    String::new()
                };
                let status = if body.is_empty() {
                    "404 Not Found"
                } else {
                    "200 OK"
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    base
}

/// The action count the SPA shows after a click on "Do the action".
async fn act(browser: &ChromeSession) -> u64 {
    browser.click_id("action").await;
    browser
        .wait_for_css("#result[data-status]", DEFAULT_TIMEOUT)
        .await;
    let text = browser.body_text().await;
    let result = text
        .lines()
        .find(|l| l.starts_with("200 "))
        .unwrap_or_else(|| panic!("the action succeeds: {text}"));
    let json: serde_json::Value = serde_json::from_str(&result[4..]).unwrap();
    assert_eq!(json["sub"], Persona::Veteran.sub(), "{json}");
    json["actions"].as_u64().expect("a count")
}

/// Opens the SPA of the app at `base` signed out, and signs in by its full-page navigation.
pub(crate) async fn sign_in_on_the_spa(browser: &ChromeSession, base: &str) {
    browser.goto(&format!("{base}/spa")).await;
    browser
        .wait_for_css("body[data-state=signed-out]", DEFAULT_TIMEOUT)
        .await;
    browser.click_id("sign-in").await;
    browser
        .wait_for_css("body[data-state=signed-in]", DEFAULT_TIMEOUT)
        .await;
}

async fn spa_in_chromium(package: &str) {
    let target = Target::start(package, &[]).await;
    let base = target.app.base.clone();
    let browser = ChromeSession::start(&format!("{package}-spa")).await;
    browser.attach(&target.app.log);

    // Signed out, then signed in by a full-page navigation that comes back to the SPA.
    sign_in_on_the_spa(&browser, &base).await;
    let url = browser.current_url().await;
    browser
        .ensure(url.path() == "/spa", format!("back on the SPA: {url}"))
        .await;
    let text = browser.body_text().await;
    browser
        .ensure(
            text.contains(&format!("Signed in as {}", Persona::Veteran.sub())),
            format!("the SPA shows the user: {text}"),
        )
        .await;
    let first = act(&browser).await;

    // Another origin tries the action: a form post, then fetch with credentials.
    let evil = attacker(format!("{base}/api/action")).await;
    browser.goto(&format!("{evil}/form")).await;
    browser
        .wait_for_url_prefix(&format!("{base}/api/action"), DEFAULT_TIMEOUT)
        .await;
    let text = browser.body_text().await;
    browser
        .ensure(
            text.contains("did not come from this site"),
            format!("the form post is refused: {text}"),
        )
        .await;
    browser.goto(&format!("{evil}/fetch")).await;
    let deadline = tokio::time::Instant::now() + DEFAULT_TIMEOUT;
    let title = loop {
        let title = browser.title().await;
        if title != "waiting" || tokio::time::Instant::now() > deadline {
            break title;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    browser
        .ensure(
            title.starts_with("failed"),
            format!("the cross-origin fetch gets nothing readable: {title}"),
        )
        .await;

    // Back on the SPA: still signed in, and neither forged request acted.
    browser.goto(&format!("{base}/spa")).await;
    browser
        .wait_for_css("body[data-state=signed-in]", DEFAULT_TIMEOUT)
        .await;
    let second = act(&browser).await;
    browser
        .ensure(
            second == first + 1,
            format!("no forged action was performed: {first} then {second}"),
        )
        .await;

    // Signing out from the SPA ends the session, at ID.me too: the SPA sends the browser
    // through the provider's logout, which comes back to the app's home page. Wait for it,
    // or that navigation would overtake the next one.
    browser.click_id("sign-out").await;
    let deadline = tokio::time::Instant::now() + DEFAULT_TIMEOUT;
    loop {
        let url = browser.current_url().await;
        if url.as_str().starts_with(&base) && url.path() == "/" {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            browser
                .fail(format!("not back on the home page after sign-out: {url}"))
                .await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.goto(&format!("{base}/spa")).await;
    browser
        .wait_for_css("body[data-state=signed-out]", DEFAULT_TIMEOUT)
        .await;

    browser.ensure_no_csp_violation().await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spa_in_chromium_axum() {
    spa_in_chromium("idme-example-axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spa_in_chromium_actix() {
    spa_in_chromium("idme-example-actix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spa_in_chromium_rocket() {
    spa_in_chromium("idme-example-rocket").await;
}
