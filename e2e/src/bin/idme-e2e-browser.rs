//! A scripted system browser for the command-line app's tests: set `BROWSER` to this
//! binary and the app runs it with the authorization URL as its last argument, as it would
//! run a real browser. Like `xdg-open`, it returns at once and does the browsing in a
//! detached copy of itself, so an app that waits for the opener to exit works as well as
//! one that does not.
//!
//! The detached copy signs in at the provider's pages and follows the browser's way back to
//! the app's loopback callback, then writes what it finally saw there to the report file:
//!
//! - oidc-provider: fills its development login form (login [`idme_e2e::oidc_provider::SUB`]
//!   or `IDME_E2E_BROWSER_LOGIN`) and confirms the consent page, reusing the interop suite's
//!   logic; with `IDME_E2E_BROWSER_ACTION=cancel` it presses "Cancel" on the login page;
//! - the emulator: presses the persona's button (`IDME_E2E_BROWSER_PERSONA`, default
//!   `veteran`), or "Cancel"; an emulator signing in automatically needs no page.
//!
//! `IDME_E2E_BROWSER_REPORT=<path>`: where the report goes, JSON `{status, url, body}` on
//! success or `{error}`; the browser's own messages go to `<path>.log`.
#![forbid(unsafe_code)]

use std::process::{ExitCode, Stdio};

use idme_e2e::oidc_provider::{SUB, cancel_on_provider, sign_in_through_provider_as};
use idme_testkit::browser::{Browser, Page, form_action, form_fields};

/// Set in the detached copy's environment.
const DETACHED: &str = "IDME_E2E_BROWSER_DETACHED";
const REPORT: &str = "IDME_E2E_BROWSER_REPORT";

fn main() -> ExitCode {
    let Some(url) = std::env::args().skip(1).last() else {
        eprintln!("usage: idme-e2e-browser <url>");
        return ExitCode::from(2);
    };
    let Some(report) = std::env::var_os(REPORT) else {
        eprintln!("idme-e2e-browser: set {REPORT} to the report file's path");
        return ExitCode::from(2);
    };
    let report = std::path::PathBuf::from(report);
    if std::env::var_os(DETACHED).is_none() {
        return detach(&url, &report);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("idme-e2e-browser: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        let task = tokio::spawn(browse(url));
        tokio::time::timeout(std::time::Duration::from_secs(60), task).await
    });
    let json = match outcome {
        Ok(Ok(page)) => serde_json::json!({
            "status": page.status,
            "url": page.url.as_str(),
            "body": page.body,
        }),
        Ok(Err(e)) => serde_json::json!({ "error": format!("the browser failed: {e}") }),
        Err(_) => serde_json::json!({ "error": "the browser gave up after 60 s" }),
    };
    // Written whole, then renamed: the test never reads half a report.
    let partial = report.with_extension("partial");
    let written = std::fs::write(&partial, json.to_string())
        .and_then(|()| std::fs::rename(&partial, &report));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idme-e2e-browser: writing {}: {e}", report.display());
            ExitCode::FAILURE
        }
    }
}

/// Starts the detached copy (its output in `<report>.log`) and returns, like `xdg-open`.
fn detach(url: &str, report: &std::path::Path) -> ExitCode {
    let log_path = report.with_extension("log");
    let spawned = std::env::current_exe().and_then(|exe| {
        let log = std::fs::File::create(&log_path)?;
        std::process::Command::new(exe)
            .arg(url)
            .env(DETACHED, "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
    });
    match spawned {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idme-e2e-browser: starting the detached browser: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Opens `url` and does what the environment asks on the provider's pages; the last page.
async fn browse(url: String) -> Page {
    let cancel = std::env::var("IDME_E2E_BROWSER_ACTION").is_ok_and(|a| a == "cancel");
    let browser = Browser::new();
    let first = browser.get(&url).await;
    let page = browser.navigate(first, None).await;
    if page.body.contains("id=\"persona-") {
        return emulator_page(&browser, &page, cancel).await;
    }
    if cancel {
        return cancel_on_provider(&browser, &page).await;
    }
    let login = std::env::var("IDME_E2E_BROWSER_LOGIN").unwrap_or_else(|_| SUB.to_owned());
    sign_in_through_provider_as(&browser, page, &login).await
}

/// The emulator's sign-in page: the persona's button, or "Cancel".
async fn emulator_page(browser: &Browser, page: &Page, cancel: bool) -> Page {
    let action = form_action(&page.body).expect("the sign-in page has a form");
    let target = page.url.join(&action).expect("the form action is a URL");
    let mut fields = form_fields(&page.body);
    if cancel {
        fields.push(("cancel".into(), "1".into()));
    } else {
        let persona =
            std::env::var("IDME_E2E_BROWSER_PERSONA").unwrap_or_else(|_| "veteran".into());
        fields.push(("persona".into(), persona));
    }
    let next = browser.post_form(target.as_str(), &fields).await;
    browser.navigate(next, None).await
}
