//! The `chromedriver` process and what the browser side needs around it: where Chromium
//! and chromedriver are found, free ports, fresh profiles, the console log entry, and the
//! artifacts directory of a failed test.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::process::{Child, Command};

/// How to install what these tests need on Debian/Ubuntu.
pub const INSTALL_HINT: &str = "apt-get update && apt-get install -y chromium chromium-driver";

/// Default time a `wait_*` method waits.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Time one WebDriver command may take while saving artifacts after a failure.
pub(super) const CAPTURE_STEP: Duration = Duration::from_secs(5);

/// The flags Chromium runs with: headless, no sandbox (containers), and nothing that phones
/// home (this machine has no network; without them Chromium floods refused connections).
pub(super) const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1024,768",
];

/// One line of the browser's console, as chromedriver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleEntry {
    /// `SEVERE`, `WARNING`, `INFO`, `DEBUG`.
    pub level: String,
    /// Chromium's text, usually prefixed by the URL it concerns.
    pub message: String,
}

impl ConsoleEntry {
    /// Whether this is a Content Security Policy violation report.
    pub fn is_csp_violation(&self) -> bool {
        let m = self.message.to_ascii_lowercase();
        m.contains("content security policy") || m.contains("content-security-policy")
    }
}

impl Display for ConsoleEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.level, self.message)
    }
}

/// `target/` (the directory holding `debug/`), derived from the running test binary.
pub(super) fn target_root() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    // target/debug/deps/<test> → target
    exe.ancestors()
        .nth(3)
        .expect("test binaries live in target/<profile>/deps")
        .to_path_buf()
}

/// Where a failing test's artifacts go.
pub fn artifacts_dir(test: &str) -> PathBuf {
    let safe: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    target_root().join("test-artifacts").join(safe)
}

/// Finds an executable: `$env_var`, else the first of `names` on `PATH`.
pub(super) fn find_executable(env_var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

pub(super) fn free_port() -> u16 {
    crate::process::Target::free_port()
}

/// A fresh, empty directory under the system temp dir.
pub(super) fn fresh_temp_dir(prefix: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

/// Sends SIGKILL to the process group `pgid` (one this module created).
pub(super) fn kill_group(pgid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A `chromedriver` child process on a loopback port, in its own process group so that the
/// browser it launches goes down with it. Killed on drop.
#[derive(Debug)]
pub struct ChromeDriver {
    child: Child,
    pub(super) pgid: Option<u32>,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Its output.
    pub log: PathBuf,
}

impl ChromeDriver {
    /// Starts chromedriver and waits until `/status` says it is ready. Fails the test with
    /// [`INSTALL_HINT`] when chromedriver is not installed.
    pub async fn start(log_dir: &Path) -> ChromeDriver {
        let bin = find_executable("CHROMEDRIVER", &["chromedriver"]).unwrap_or_else(|| {
            panic!(
                "chromedriver not found (set CHROMEDRIVER or put it on PATH). \
                 These browser tests need Chromium and its WebDriver: {INSTALL_HINT}"
            )
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("a plain reqwest client builds");
        let mut last_error = String::new();
        // The port is picked then released: retry on the rare race with another process.
        for attempt in 0..3 {
            let port = free_port();
            let log = log_dir.join(format!("chromedriver-{attempt}.log"));
            let out = std::fs::File::create(&log).expect("chromedriver log file");
            let mut cmd = Command::new(&bin);
            cmd.arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("log file"))
                .stderr(out)
                .process_group(0)
                .kill_on_drop(true);
            let mut child = cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "starting {}: {e}. These browser tests need Chromium and its WebDriver: \
                     {INSTALL_HINT}",
                    bin.display()
                )
            });
            let pgid = child.id();
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!(
                        "chromedriver exited with {status}: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                    break;
                }
                if let Ok(r) = http.get(format!("{url}/status")).send().await
                    && let Ok(body) = r.bytes().await
                    && let Ok(v) = serde_json::from_slice::<Value>(&body)
                    && v["value"]["ready"] == true
                {
                    return ChromeDriver {
                        child,
                        pgid,
                        url,
                        log,
                    };
                }
                if Instant::now() > deadline {
                    last_error = format!("chromedriver did not answer on {url} within 20 s");
                    let _ = child.kill().await;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("{last_error}");
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if let Some(pgid) = self.pgid {
            kill_group(pgid);
        }
    }
}
