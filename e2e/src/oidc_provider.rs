//! An independent OpenID provider for interop tests: Node's `oidc-provider` (panva), run from
//! `e2e/oidc-provider/server.mjs` as a child process on a free loopback port, shaped like
//! ID.me (issuer `http://127.0.0.1:PORT/oidc`, every response type and mode, PKCE S256,
//! RS256, refresh tokens, RP-initiated logout). Its dependencies are installed with `npm ci`
//! on first use when `e2e/oidc-provider/node_modules` is missing or stale.
//!
//! Node.js (18 or later) and npm must be on `PATH`: without them the interop tests fail with
//! a message saying so; they are never skipped.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use idme_testkit::browser::{Browser, Page, form_action, form_fields};
use tokio::process::{Child, ChildStdin, Command};

/// The account every interop sign-in uses. oidc-provider's development login page takes any
/// login and makes it the `sub`; this one is shaped like an ID.me UUID.
pub const SUB: &str = "4a5e1f3c9b8d4e2fa6c07d1b2e3f4a5b";

/// What the provider registers for the one client a test uses.
#[derive(Debug, Clone)]
pub struct OidcProviderConfig {
    /// Client id.
    pub client_id: String,
    /// Client secret (empty for a public client, `token_endpoint_auth_method` `none`).
    pub client_secret: String,
    /// `web`, or `native` for a desktop or command-line app (RFC 8252: a registered
    /// `http://127.0.0.1/callback` then accepts any loopback port).
    pub application_type: String,
    /// Registered redirect URIs (exact match).
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Response types the client may use (empty: all six of ID.me's OIDC response types).
    pub response_types: Vec<String>,
    /// `client_secret_basic`, `client_secret_post` or `none` (a public client): oidc-provider
    /// accepts only the registered one.
    pub token_endpoint_auth_method: String,
    /// Adds the RFC 9207 `iss` parameter to authorization responses that carry an
    /// `id_token`, which stock oidc-provider leaves out although RFC 9207 §2 requires it
    /// (see `server.mjs`). On by default here; off reproduces stock oidc-provider.
    pub iss_beside_id_token: bool,
}

impl OidcProviderConfig {
    /// A client for an app on `http://127.0.0.1:{port}` with its callback at
    /// `/auth/callback` and its post-logout page at `/`.
    pub fn for_app_port(port: u16) -> Self {
        Self {
            client_id: format!("interop-client-{port}"),
            client_secret: format!("interop-secret-{port}-{}", std::process::id()),
            redirect_uris: vec![format!("http://127.0.0.1:{port}/auth/callback")],
            post_logout_redirect_uris: vec![format!("http://127.0.0.1:{port}/")],
            application_type: "web".into(),
            response_types: Vec::new(),
            token_endpoint_auth_method: "client_secret_basic".into(),
            iss_beside_id_token: false,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::json!({
            "port": 0,
            "client_id": self.client_id,
            "application_type": self.application_type,
            "redirect_uris": self.redirect_uris,
            "post_logout_redirect_uris": self.post_logout_redirect_uris,
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "iss_beside_id_token": self.iss_beside_id_token,
        });
        if !self.client_secret.is_empty() {
            json["client_secret"] = serde_json::json!(self.client_secret);
        }
        if !self.response_types.is_empty() {
            json["response_types"] = serde_json::json!(self.response_types);
        }
        json
    }
}

/// `e2e/oidc-provider`.
pub fn server_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
}

/// Where the provider's output goes: `target/<profile>/e2e-logs`.
fn log_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .map_or_else(std::env::temp_dir, Path::to_path_buf)
        .join("e2e-logs");
    std::fs::create_dir_all(&dir).expect("log dir");
    dir
}

/// Runs `program --version`; `Err` with a message saying what to install when it is missing.
fn version_of(program: &str) -> Result<String, String> {
    let out = std::process::Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "the interop tests need Node.js (18 or later) and npm on PATH to run the \
                 independent OpenID provider (e2e/oidc-provider), but `{program} --version` \
                 could not run: {e}. Install Node.js (https://nodejs.org, or your package \
                 manager's `nodejs` and `npm`) and run the tests again."
            )
        })?;
    if !out.status.success() {
        return Err(format!(
            "`{program} --version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The string at JSON `pointer` in the file at `path`, if readable.
fn json_string(path: &Path, pointer: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.pointer(pointer)?.as_str().map(str::to_owned)
}

/// Whether `node_modules` holds the pinned oidc-provider (and npm finished installing it).
fn dependencies_installed(dir: &Path) -> bool {
    let wanted = json_string(&dir.join("package.json"), "/dependencies/oidc-provider");
    let installed = json_string(
        &dir.join("node_modules/oidc-provider/package.json"),
        "/version",
    );
    dir.join("node_modules/.package-lock.json").is_file() && wanted.is_some() && wanted == installed
}

/// Checks Node and npm, and runs `npm ci` when the dependencies are missing or stale. Once
/// per test process; across processes (for example cargo-nextest) a lock file keeps two
/// installs from racing.
fn ensure_installed() -> Result<(), String> {
    let node = version_of("node")?;
    let major: u32 = node
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 18 {
        return Err(format!(
            "the interop tests need Node.js 18 or later (oidc-provider 8); found {node}"
        ));
    }
    let dir = server_dir();
    if dependencies_installed(&dir) {
        return Ok(());
    }
    version_of("npm")?;
    let lock_path = dir.join(".npm-ci.lock");
    let deadline = Instant::now() + Duration::from_secs(600);
    let _lock = loop {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock_path)
        {
            Ok(_) => break LockFile(lock_path.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if dependencies_installed(&dir) {
                    return Ok(());
                }
                // A lock left by a killed install goes stale after 10 minutes.
                let stale = std::fs::metadata(&lock_path)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(600));
                if stale {
                    let _ = std::fs::remove_file(&lock_path);
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "waited 10 minutes for another `npm ci` in {} (lock file {})",
                        dir.display(),
                        lock_path.display()
                    ));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(format!("creating {}: {e}", lock_path.display())),
        }
    };
    if dependencies_installed(&dir) {
        return Ok(());
    }
    eprintln!(
        "idme-e2e: installing oidc-provider with `npm ci` in {}",
        dir.display()
    );
    let out = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running `npm ci` in {}: {e}", dir.display()))?;
    if !out.status.success() || !dependencies_installed(&dir) {
        return Err(format!(
            "`npm ci --no-audit --no-fund` in {} failed ({}):\n{}\n{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Removes the install lock file when dropped.
struct LockFile(PathBuf);

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `ensure_installed`, once per process; every caller gets its outcome.
fn installed() -> &'static Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED.get_or_init(ensure_installed)
}

/// A running oidc-provider. Killed on drop.
#[derive(Debug)]
pub struct OidcProvider {
    child: Child,
    // Held open: the server leaves when this pipe closes, even if the test is killed.
    _stdin: Option<ChildStdin>,
    issuer: String,
    base: String,
    config: OidcProviderConfig,
    log: PathBuf,
    http: reqwest::Client,
}

impl OidcProvider {
    /// Installs the dependencies if needed, starts `node server.mjs` with `config` and waits
    /// for its `READY <issuer>` line.
    pub async fn start(config: OidcProviderConfig) -> OidcProvider {
        let ready = tokio::task::spawn_blocking(installed)
            .await
            .expect("the install task does not panic");
        if let Err(e) = ready {
            panic!("oidc-provider is not available: {e}");
        }
        let dir = server_dir();
        static STARTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = log_dir().join(format!("oidc-provider-{}-{n}.log", std::process::id()));
        let out = File::create(&log).expect("log file");
        let mut child = Command::new("node")
            .arg("server.mjs")
            .arg(config.to_json().to_string())
            .current_dir(&dir)
            .env("NODE_ENV", "test")
            .stdin(Stdio::piped())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting `node server.mjs` in {}: {e}", dir.display()));
        let stdin = child.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(30);
        let issuer = loop {
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(issuer) = output
                .lines()
                .find_map(|l| l.strip_prefix("READY "))
                .map(|s| s.trim().to_owned())
            {
                break issuer;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "oidc-provider exited with {status} before it was ready; its output:\n{output}"
                );
            }
            assert!(
                Instant::now() < deadline,
                "oidc-provider did not print READY within 30 s; its output:\n{output}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        let base = issuer
            .strip_suffix("/oidc")
            .unwrap_or_else(|| panic!("unexpected issuer {issuer}"))
            .to_owned();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a plain reqwest client builds");
        OidcProvider {
            child,
            _stdin: stdin,
            issuer,
            base,
            config,
            log,
            http,
        }
    }

    /// The issuer, `http://127.0.0.1:PORT/oidc`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the issuer has a port")
    }

    /// The registered client's id.
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// The registered client's secret.
    pub fn client_secret(&self) -> &str {
        &self.config.client_secret
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &OidcProviderConfig {
        &self.config
    }

    /// Counters of what the provider did: `authorizations`, `authorizations_by_flow`
    /// (`"<sorted response type> <mode>"` → count), `token_grants`, `token_auth_methods`,
    /// `refresh_tokens_issued`, `userinfo`, `end_sessions`, `errors`.
    pub async fn stats(&self) -> serde_json::Value {
        self.get_json("/__stats").await
    }

    /// The last successful authorization response the provider sent: `response_type`,
    /// `response_mode`, the names of its `parameters`, and `iss_added_by_harness` (whether
    /// `iss` is there only because of [`OidcProviderConfig::iss_beside_id_token`]).
    pub async fn last_response(&self) -> serde_json::Value {
        self.get_json("/__last_response").await
    }

    async fn get_json(&self, path: &str) -> serde_json::Value {
        let url = format!("{}{path}", self.base);
        self.http
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .text()
            .await
            .ok()
            .and_then(|body| serde_json::from_str(&body).ok())
            .unwrap_or_else(|| panic!("GET {url}: no JSON answer"))
    }

    /// The provider's output so far (warnings, errors it reported).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the provider.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// What kind of provider page `page` is.
fn prompt_of(page: &Page) -> Option<&'static str> {
    if page.status != 200 || !page.body.contains("<form") {
        return None;
    }
    if page.body.contains(r#"name="prompt" value="login""#) {
        Some("login")
    } else if page.body.contains(r#"name="prompt" value="consent""#) {
        Some("consent")
    } else {
        None
    }
}

/// The provider's login page, reached by following `start` (typically the app's 303 from
/// `/auth/login`). Panics with the page if it is something else.
pub async fn until_provider_login(browser: &Browser, start: Page) -> Page {
    let page = browser.navigate(start, None).await;
    assert_eq!(
        prompt_of(&page),
        Some("login"),
        "expected oidc-provider's login page, got {} {}: {}",
        page.status,
        page.url,
        page.body
    );
    page
}

/// Posts the provider page's first form with `fields` replacing the defaults.
async fn submit(browser: &Browser, page: &Page, overrides: &[(&str, &str)]) -> Page {
    let action = form_action(&page.body)
        .unwrap_or_else(|| panic!("no form action on {}: {}", page.url, page.body));
    let target = page
        .url
        .join(&action)
        .unwrap_or_else(|e| panic!("bad form action {action:?}: {e}"));
    let mut fields = form_fields(&page.body);
    for (name, value) in overrides {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = (*value).to_owned(),
            None => fields.push(((*name).to_owned(), (*value).to_owned())),
        }
    }
    browser.post_form(target.as_str(), &fields).await
}

/// Signs in through the provider as [`SUB`]: from `start` (the app's redirect to the
/// provider, or any page on the way), fills the development login form (`login`,
/// `password`), confirms the consent form, and lets the browser carry the authorization
/// response back to the app (redirect, fragment relay or `form_post`) until a page that is
/// none of these: normally the app's `return_to` page.
pub async fn sign_in_through_provider(browser: &Browser, start: Page) -> Page {
    sign_in_through_provider_as(browser, start, SUB).await
}

/// [`sign_in_through_provider`] with another login (which becomes the `sub`).
pub async fn sign_in_through_provider_as(browser: &Browser, start: Page, login: &str) -> Page {
    let mut page = browser.navigate(start, None).await;
    for _ in 0..4 {
        let next = match prompt_of(&page) {
            Some("login") => {
                submit(
                    browser,
                    &page,
                    &[("login", login), ("password", "interop-password")],
                )
                .await
            }
            Some(_) => submit(browser, &page, &[]).await,
            None => return page,
        };
        page = browser.navigate(next, None).await;
    }
    page
}

/// Cancels the sign-in on the provider's login page (its "Cancel" link), which sends
/// `error=access_denied` back to the app, and follows the browser to the app's answer.
pub async fn cancel_on_provider(browser: &Browser, login_page: &Page) -> Page {
    let body = &login_page.body;
    let anchor = body
        .find(">[ Cancel ]<")
        .unwrap_or_else(|| panic!("no Cancel link on the login page: {body}"));
    let href_at = body[..anchor]
        .rfind("href=\"")
        .expect("the Cancel link has an href")
        + 6;
    let href = &body[href_at..anchor - 1];
    let url = login_page
        .url
        .join(&href.replace("&amp;", "&"))
        .expect("the Cancel link is a URL");
    let page = browser.get(url.as_str()).await;
    browser.navigate(page, None).await
}

/// From the app's `303` to the provider's end-session endpoint: confirms the sign-out on the
/// provider's page ("Yes, sign me out") and follows the browser back to the app.
pub async fn sign_out_through_provider(browser: &Browser, logout_redirect: Page) -> Page {
    let confirm = browser.navigate(logout_redirect, None).await;
    assert!(
        confirm.status == 200 && confirm.body.contains("op.logoutForm"),
        "expected oidc-provider's sign-out confirmation, got {} {}: {}",
        confirm.status,
        confirm.url,
        confirm.body
    );
    let done = submit(browser, &confirm, &[("logout", "yes")]).await;
    browser.navigate(done, None).await
}
