//! Real headless Chromium, driven over WebDriver (chromedriver + [`fantoccini`]).
//!
//! [`ChromeSession::start`] starts `chromedriver` on a free loopback port as a child process
//! (killed on drop, together with the browser it launched) and opens one browser session
//! with a fresh profile. Every method either succeeds or fails the test; on a failure it
//! first saves what the browser saw (screenshot, page source, URL, console log,
//! chromedriver's log and any attached logs) under
//! `target/test-artifacts/<test-name>/` and names that directory in the panic message.
//!
//! Chromium and chromedriver are required: when they are missing the test fails with the
//! command that installs them ([`INSTALL_HINT`]); it is never skipped silently.
//! `CHROME_BIN` and `CHROMEDRIVER` override where they are looked for.

mod driver;

use driver::*;
pub use driver::{ChromeDriver, ConsoleEntry, DEFAULT_TIMEOUT, INSTALL_HINT, artifacts_dir};

use std::fmt::Display;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use url::Url;

/// One headless Chromium session for one test. See the [module docs](self).
///
/// End it with [`close`](Self::close); if the test panics first, drop saves the artifacts
/// (when it can) and kills the browser.
#[derive(Debug)]
pub struct ChromeSession {
    client: Option<Client>,
    driver: ChromeDriver,
    test: String,
    work: PathBuf,
    console: Mutex<Vec<ConsoleEntry>>,
    attachments: Mutex<Vec<PathBuf>>,
    captured: AtomicBool,
    http: reqwest::Client,
}

impl ChromeSession {
    /// Starts chromedriver and a headless Chromium with a fresh profile, for the test
    /// `test` (used to name its artifacts directory, which is emptied now).
    pub async fn start(test: &str) -> ChromeSession {
        let chrome = find_executable(
            "CHROME_BIN",
            &["chromium", "chromium-browser", "google-chrome"],
        )
        .unwrap_or_else(|| {
            panic!(
                "Chromium not found (set CHROME_BIN or put `chromium` on PATH). \
                 These browser tests need Chromium and its WebDriver: {INSTALL_HINT}"
            )
        });
        let _ = std::fs::remove_dir_all(artifacts_dir(test));
        let work = fresh_temp_dir("idme-e2e-chrome");
        let profile = work.join("profile");
        std::fs::create_dir_all(&profile).expect("profile dir");
        let driver = ChromeDriver::start(&work).await;

        let mut args: Vec<String> = CHROME_ARGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": { "binary": chrome, "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(caps) = caps else {
            unreachable!("a JSON object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "opening a Chromium session through chromedriver failed: {e}\n\
                     chromedriver log ({}):\n{}\nChromium is {}; if it is missing or broken: {INSTALL_HINT}",
                    driver.log.display(),
                    std::fs::read_to_string(&driver.log).unwrap_or_default(),
                    chrome.display(),
                )
            });
        ChromeSession {
            client: Some(client),
            driver,
            test: test.to_owned(),
            work,
            console: Mutex::new(Vec::new()),
            attachments: Mutex::new(Vec::new()),
            captured: AtomicBool::new(false),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("a plain reqwest client builds"),
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// Copies `path` (an app's log, say) into the artifacts when the test fails.
    pub fn attach(&self, path: impl Into<PathBuf>) {
        self.attachments
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(path.into());
    }

    /// Fails the test: saves the artifacts, then panics with `message` and where they are.
    pub async fn fail(&self, message: impl Display) -> ! {
        let dir = self.capture(&message.to_string()).await;
        panic!(
            "{message}\n  browser artifacts (screenshot, page source, console): {}",
            dir.display()
        );
    }

    /// Fails the test with `message` unless `condition` holds.
    pub async fn ensure(&self, condition: bool, message: impl Display) {
        if !condition {
            self.fail(message).await;
        }
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        if let Err(e) = self.client().goto(url).await {
            self.fail(format!("navigating to {url}: {e}")).await;
        }
    }

    /// The URL the browser shows.
    pub async fn current_url(&self) -> Url {
        match self.client().current_url().await {
            Ok(u) => u,
            Err(e) => self.fail(format!("reading the current URL: {e}")).await,
        }
    }

    /// The current page's HTML, as the browser serialises its DOM.
    pub async fn source(&self) -> String {
        match self.client().source().await {
            Ok(s) => s,
            Err(e) => self.fail(format!("reading the page source: {e}")).await,
        }
    }

    /// The page's visible text (`document.body.innerText`; for a JSON response, the JSON).
    pub async fn body_text(&self) -> String {
        let script = "return document.body ? document.body.innerText : '';";
        match self.client().execute(script, Vec::new()).await {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => self.fail(format!("reading the page text: {e}")).await,
        }
    }

    /// The page's title.
    pub async fn title(&self) -> String {
        match self.client().title().await {
            Ok(s) => s,
            Err(e) => self.fail(format!("reading the title: {e}")).await,
        }
    }

    /// Whether an element matching the CSS selector is on the page now.
    pub async fn has_css(&self, selector: &str) -> bool {
        match self.client().find_all(Locator::Css(selector)).await {
            Ok(found) => !found.is_empty(),
            Err(e) => self.fail(format!("looking for {selector:?}: {e}")).await,
        }
    }

    /// Clicks the element with this `id` (waiting for it up to [`DEFAULT_TIMEOUT`]).
    pub async fn click_id(&self, id: &str) {
        self.click_css(&format!("#{id}")).await;
    }

    /// Clicks the first element matching the CSS selector (waiting for it up to
    /// [`DEFAULT_TIMEOUT`]).
    pub async fn click_css(&self, selector: &str) {
        let element = self.wait_for_css(selector, DEFAULT_TIMEOUT).await;
        if let Err(e) = element.click().await {
            self.fail(format!("clicking {selector:?}: {e}")).await;
        }
    }

    /// Waits until an element matching the CSS selector is on the page.
    pub async fn wait_for_css(
        &self,
        selector: &str,
        timeout: Duration,
    ) -> fantoccini::elements::Element {
        let deadline = Instant::now() + timeout;
        loop {
            match self.client().find(Locator::Css(selector)).await {
                Ok(e) => return e,
                Err(e) if Instant::now() > deadline => {
                    let url = self.client().current_url().await.map(String::from);
                    self.fail(format!(
                        "no element {selector:?} within {timeout:?} (page {}): {e}",
                        url.unwrap_or_else(|e| e.to_string())
                    ))
                    .await
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Waits until the element with this `id` is on the page.
    pub async fn wait_for_id(&self, id: &str, timeout: Duration) -> fantoccini::elements::Element {
        self.wait_for_css(&format!("#{id}"), timeout).await
    }

    /// Waits until the URL starts with `prefix` and the page has loaded; returns the URL.
    pub async fn wait_for_url_prefix(&self, prefix: &str, timeout: Duration) -> Url {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        loop {
            if let Ok(url) = self.client().current_url().await {
                last = url.to_string();
                if last.starts_with(prefix)
                    && self.ready_state().await.as_deref() == Some("complete")
                {
                    return url;
                }
            }
            if Instant::now() > deadline {
                self.fail(format!(
                    "the browser did not reach {prefix}… within {timeout:?}; it is at {last}"
                ))
                .await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn ready_state(&self) -> Option<String> {
        match self
            .client()
            .execute("return document.readyState;", Vec::new())
            .await
        {
            Ok(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        match self.client().screenshot().await {
            Ok(png) => png,
            Err(e) => self.fail(format!("taking a screenshot: {e}")).await,
        }
    }

    /// The names and values of the cookies the browser would send to the current page.
    pub async fn cookies(&self) -> Vec<(String, String)> {
        match self.client().get_all_cookies().await {
            Ok(all) => all
                .into_iter()
                .map(|c| (c.name().to_owned(), c.value().to_owned()))
                .collect(),
            Err(e) => self.fail(format!("reading cookies: {e}")).await,
        }
    }

    /// Every console entry since the session started (chromedriver hands each out once; this
    /// keeps them all).
    pub async fn console(&self) -> Vec<ConsoleEntry> {
        let fresh = match self.fetch_console().await {
            Ok(fresh) => fresh,
            Err(e) => self.fail(format!("reading the browser console: {e}")).await,
        };
        let mut all = self.console.lock().unwrap_or_else(|p| p.into_inner());
        all.extend(fresh);
        all.clone()
    }

    /// The console entries that report Content Security Policy violations.
    pub async fn csp_violations(&self) -> Vec<ConsoleEntry> {
        self.console()
            .await
            .into_iter()
            .filter(ConsoleEntry::is_csp_violation)
            .collect()
    }

    /// Fails (with the artifacts) unless the browser reported no CSP violation so far.
    pub async fn ensure_no_csp_violation(&self) {
        let violations = self.csp_violations().await;
        let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
        self.ensure(
            lines.is_empty(),
            format!("no CSP violation:\n{}", lines.join("\n")),
        )
        .await;
    }

    /// chromedriver's log endpoint (`POST /session/{id}/se/log`, type `browser`).
    async fn fetch_console(&self) -> Result<Vec<ConsoleEntry>, String> {
        let id = self
            .client()
            .session_id()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no session id")?;
        let r = self
            .http
            .post(format!("{}/session/{id}/se/log", self.driver.url))
            .header("content-type", "application/json")
            .body(json!({ "type": "browser" }).to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body = r.bytes().await.map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let entries = v["value"]
            .as_array()
            .ok_or_else(|| format!("unexpected log answer: {v}"))?;
        Ok(entries
            .iter()
            .map(|e| ConsoleEntry {
                level: e["level"].as_str().unwrap_or("?").to_owned(),
                message: e["message"].as_str().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// Saves screenshot, page source, URL, console, chromedriver log and attachments; each
    /// step is best effort and time-boxed so a hung browser cannot hang the test.
    async fn capture(&self, reason: &str) -> PathBuf {
        self.captured.store(true, Ordering::SeqCst);
        let dir = artifacts_dir(&self.test);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("failure.txt"), reason);
        let Some(client) = self.client.as_ref() else {
            return dir;
        };
        match tokio::time::timeout(CAPTURE_STEP, client.current_url()).await {
            Ok(Ok(url)) => {
                let _ = std::fs::write(dir.join("url.txt"), url.as_str());
            }
            other => {
                let _ = std::fs::write(dir.join("url.txt"), format!("unavailable: {other:?}"));
            }
        }
        if let Ok(Ok(png)) = tokio::time::timeout(CAPTURE_STEP, client.screenshot()).await {
            let _ = std::fs::write(dir.join("screenshot.png"), png);
        }
        if let Ok(Ok(html)) = tokio::time::timeout(CAPTURE_STEP, client.source()).await {
            let _ = std::fs::write(dir.join("page.html"), html);
        }
        let fresh = tokio::time::timeout(CAPTURE_STEP, self.fetch_console())
            .await
            .unwrap_or_else(|_| Err("timed out".into()));
        let console = {
            let mut all = self.console.lock().unwrap_or_else(|p| p.into_inner());
            if let Ok(fresh) = &fresh {
                all.extend(fresh.iter().cloned());
            }
            let mut text: String = all.iter().map(|e| format!("{e}\n")).collect();
            if let Err(e) = fresh {
                text.push_str(&format!("(reading the console failed: {e})\n"));
            }
            text
        };
        let _ = std::fs::write(dir.join("console.log"), console);
        let _ = std::fs::copy(&self.driver.log, dir.join("chromedriver.log"));
        let attachments = self
            .attachments
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for path in attachments {
            if let Some(name) = path.file_name() {
                let _ = std::fs::copy(&path, dir.join(name));
            }
        }
        dir
    }

    /// Ends the browser session (Chromium quits) and stops chromedriver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        }
    }
}

impl Drop for ChromeSession {
    fn drop(&mut self) {
        // A panic that did not go through `fail` (an assertion in the test, a panic in a
        // helper): save the artifacts now, if the runtime lets us block here.
        if std::thread::panicking() && !self.captured.load(Ordering::SeqCst) {
            let multi_thread = tokio::runtime::Handle::try_current()
                .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
            if multi_thread {
                let saved = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    tokio::task::block_in_place(|| {
                        tokio::runtime::Handle::current().block_on(async {
                            tokio::time::timeout(
                                Duration::from_secs(30),
                                self.capture("the test panicked (see its message)"),
                            )
                            .await
                        })
                    })
                }));
                if let Ok(Ok(dir)) = saved {
                    eprintln!(
                        "browser artifacts of the failed test {}: {}",
                        self.test,
                        dir.display()
                    );
                }
            }
        }
        // Dropping the client asks chromedriver to end the session in the background;
        // `ChromeDriver`'s drop then kills chromedriver and the browser's process group.
        self.client.take();
        if let Some(pgid) = self.driver.pgid {
            kill_group(pgid);
        }
        let _ = std::fs::remove_dir_all(&self.work);
    }
}
