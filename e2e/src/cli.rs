//! The command-line example (`idme-example-cli`) as a real process: each test gets a
//! [`CliHome`], a fresh temporary directory holding the token file (`IDME_TOKEN_FILE`), the
//! process's `HOME` and the scripted browser's report, and runs the built binary in it with
//! only the environment the test gives. `BROWSER` points at the scripted browser
//! (`src/bin/idme-e2e-browser.rs`), which signs in at oidc-provider's or the emulator's
//! pages and reports the page the app's loopback listener answered.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use url::Url;

use crate::oidc_provider::{OidcProvider, OidcProviderConfig};
use crate::process::{example_binary, target_dir};

/// The command-line example's package and binary.
pub const PACKAGE: &str = "idme-example-cli";

/// The redirect URI a native app registers: any loopback port at run time (RFC 8252 §7.3).
pub const LOOPBACK_REDIRECT: &str = "http://127.0.0.1/callback";

/// The line `login --no-browser` prints on stderr before the URL.
pub const OPEN_URL_PREFIX: &str = "Open this URL to sign in: ";

/// How long one run of the app may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// oidc-provider's registration of the command-line app: a public native client (no
/// secret, `token_endpoint_auth_method` `none`, PKCE S256 as for every client there), the
/// code flow only, redirect URI [`LOOPBACK_REDIRECT`].
pub fn native_client_config() -> OidcProviderConfig {
    OidcProviderConfig {
        client_id: format!("native-cli-{}", std::process::id()),
        client_secret: String::new(),
        application_type: "native".into(),
        redirect_uris: vec![LOOPBACK_REDIRECT.into()],
        post_logout_redirect_uris: Vec::new(),
        response_types: vec!["code".into()],
        token_endpoint_auth_method: "none".into(),
        iss_beside_id_token: false,
    }
}

/// Starts oidc-provider with [`native_client_config`].
pub async fn native_provider() -> OidcProvider {
    OidcProvider::start(native_client_config()).await
}

/// Every access, refresh and ID token the provider's token endpoint has handed out.
pub async fn issued_tokens(provider: &OidcProvider) -> Vec<String> {
    let url = format!("http://127.0.0.1:{}/__issued", provider.port());
    let body = reqwest::get(&url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
}

/// The scripted browser's executable (built by cargo with the package's tests).
pub fn scripted_browser() -> PathBuf {
    target_dir().join("idme-e2e-browser")
}

/// What one run of the app printed, and how it ended.
#[derive(Debug)]
pub struct CliRun {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote on stdout.
    pub stdout: String,
    /// Everything it wrote on stderr.
    pub stderr: String,
}

impl CliRun {
    /// The exit code (`-1` when killed by a signal).
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }
}

impl std::fmt::Display for CliRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// One test's directory and environment for the app. Removed on drop.
#[derive(Debug)]
pub struct CliHome {
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl CliHome {
    /// A fresh directory and the environment of a user with nothing configured but
    /// `IDME_TOKEN_FILE` (inside the directory, not created) and `BROWSER` (the scripted
    /// browser). `test` names the directory.
    pub fn new(test: &str) -> CliHome {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "idme-e2e-cli-{test}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let home = dir.join("home");
        std::fs::create_dir_all(&home).expect("temp dir");
        let mut cli = CliHome {
            dir,
            env: Vec::new(),
        };
        let path = std::env::var("PATH").unwrap_or_default();
        cli.set("PATH", &path);
        cli.set("HOME", &home.display().to_string());
        cli.set(
            "XDG_CONFIG_HOME",
            &home.join(".config").display().to_string(),
        );
        cli.set(
            "XDG_DATA_HOME",
            &home.join(".local/share").display().to_string(),
        );
        let token_file = cli.token_file().display().to_string();
        cli.set("IDME_TOKEN_FILE", &token_file);
        let browser = scripted_browser();
        assert!(
            browser.is_file(),
            "the scripted browser {} is missing (cargo builds it with idme-e2e's tests)",
            browser.display()
        );
        cli.set("BROWSER", &browser.display().to_string());
        let report = cli.report_file().display().to_string();
        cli.set("IDME_E2E_BROWSER_REPORT", &report);
        cli
    }

    /// [`new`](Self::new), configured for `provider`'s native client through the web
    /// examples' variables (no `IDME_CLIENT_SECRET`: a public client).
    pub fn for_provider(test: &str, provider: &OidcProvider) -> CliHome {
        let mut cli = CliHome::new(test);
        cli.set("IDME_ISSUER", provider.issuer());
        cli.set("IDME_CLIENT_ID", provider.client_id());
        cli.set("IDME_REDIRECT_URI", LOOPBACK_REDIRECT);
        cli.set("IDME_TOKEN_AUTH", "none");
        cli.set("IDME_SCOPES", "openid profile email");
        cli
    }

    /// Sets (or replaces) an environment variable for the next runs.
    pub fn set(&mut self, name: &str, value: &str) {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// Where the app keeps its tokens (`IDME_TOKEN_FILE`).
    pub fn token_file(&self) -> PathBuf {
        self.dir.join("tokens.json")
    }

    /// Where the scripted browser writes what it saw last.
    pub fn report_file(&self) -> PathBuf {
        self.dir.join("browser-report.json")
    }

    fn command(&self, args: &[&str]) -> Command {
        let bin = example_binary(PACKAGE);
        let mut cmd = Command::new(&bin);
        cmd.env_clear()
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `idme-example-cli <args>` to its end (at most 60 s).
    pub async fn run(&self, args: &[&str]) -> CliRun {
        self.spawn(args).await.finish().await
    }

    /// Starts `idme-example-cli <args>` and returns while it runs.
    pub async fn spawn(&self, args: &[&str]) -> CliProcess {
        let mut child = self
            .command(args)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {PACKAGE} {args:?}: {e}"));
        let mut stdout = child.stdout.take().expect("piped stdout");
        let stdout = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text).await;
            text
        });
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let sink = Arc::clone(&stderr_text);
        let stderr = tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut text = sink.lock().unwrap_or_else(|p| p.into_inner());
                text.push_str(&line);
                text.push('\n');
            }
        });
        CliProcess {
            child,
            stdout,
            stderr,
            stderr_text,
            started: Instant::now(),
        }
    }

    /// The scripted browser's report of the last page it saw (waits up to 20 s for it: the
    /// browser writes it once the app's listener has answered, which can be just after the
    /// app exits). Panics with the browser's log when it reported a failure.
    pub async fn browser_report(&self) -> serde_json::Value {
        let path = self.report_file();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let report: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("the browser's report is not JSON ({e}): {text}"));
                assert!(
                    report.get("error").is_none(),
                    "the scripted browser failed: {report}\nits log:\n{}",
                    read(&path.with_extension("log"))
                );
                return report;
            }
            assert!(
                Instant::now() < deadline,
                "the scripted browser wrote no report within 20 s; its log:\n{}",
                read(&path.with_extension("log"))
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()))
}

impl Drop for CliHome {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A running `idme-example-cli`. Killed on drop.
#[derive(Debug)]
pub struct CliProcess {
    child: Child,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<()>,
    stderr_text: Arc<Mutex<String>>,
    started: Instant,
}

impl CliProcess {
    /// What it wrote on stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr_text
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits (up to 20 s) for the `Open this URL to sign in: <url>` line on stderr and
    /// returns the URL.
    pub async fn sign_in_url(&mut self) -> Url {
        self.url_after(OPEN_URL_PREFIX).await
    }

    /// Waits (up to 20 s) for a line `<prefix><url>` on stderr and returns the URL.
    pub async fn url_after(&mut self, prefix: &str) -> Url {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.stderr_so_far();
            if let Some(url) = text.lines().find_map(|l| l.trim().strip_prefix(prefix)) {
                return Url::parse(url.trim())
                    .unwrap_or_else(|e| panic!("not a URL after {prefix:?} ({e}): {url}"));
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the app exited ({status}) before printing the URL; stderr:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "no {prefix:?} line on stderr within 20 s; stderr so far:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits for the app to exit (60 s from its start at most) and returns what it printed.
    pub async fn finish(mut self) -> CliRun {
        let left = RUN_TIMEOUT.saturating_sub(self.started.elapsed());
        let status = match tokio::time::timeout(left, self.child.wait()).await {
            Ok(status) => status.expect("waiting for the app"),
            Err(_) => {
                let _ = self.child.kill().await;
                panic!(
                    "{PACKAGE} still ran after {RUN_TIMEOUT:?}; stderr:\n{}",
                    self.stderr_so_far()
                );
            }
        };
        let stdout = (&mut self.stdout).await.unwrap_or_default();
        let _ = (&mut self.stderr).await;
        CliRun {
            status,
            stdout,
            stderr: self.stderr_so_far(),
        }
    }
}

/// Fails if any of `secrets` (non-empty) shows in any run's stdout or stderr, naming only
/// which run and stream, never the value.
pub fn assert_no_secret_printed(runs: &[(&str, &CliRun)], secrets: &[String]) {
    for (what, run) in runs {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for (i, secret) in secrets.iter().enumerate() {
                assert!(
                    secret.is_empty() || !text.contains(secret.as_str()),
                    "`{what}` printed secret #{i} (of {}) on {stream}",
                    secrets.len()
                );
            }
        }
    }
}
