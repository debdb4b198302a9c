//! Starting an example app as a child process on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use idme_testkit::{Emulator, EmulatorConfig, Persona};
use tokio::process::{Child, Command};

/// `target/debug` (or wherever this test binary was built).
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    // target/debug/deps/<test> → target/debug
    exe.parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps")
        .to_path_buf()
}

/// The example's executable, built once per test process (a no-op when it is fresh).
pub(crate) fn example_binary(package: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
    if !built.iter().any(|p| p == package) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "--quiet", "-p", package, "--bin", package]);
        for name in std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()) {
            if set_by_cargo_for_this_test(&name) {
                build.env_remove(name);
            }
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building {package} failed");
        built.push(package.to_owned());
    }
    target_dir().join(package)
}

/// Whether cargo set the variable `name` for this test process only (this package's
/// manifest, name, binaries…). The nested `cargo build` must not see them: build scripts
/// that watch one (ring's watches `CARGO_MANIFEST_DIR`) would then rebuild, and the next
/// `cargo test` rebuild again, half a minute each way.
fn set_by_cargo_for_this_test(name: &str) -> bool {
    matches!(
        name,
        "CARGO_MANIFEST_DIR"
            | "CARGO_MANIFEST_PATH"
            | "CARGO_CRATE_NAME"
            | "CARGO_PRIMARY_PACKAGE"
            | "CARGO_TARGET_TMPDIR"
            | "CARGO_RUSTC_CURRENT_DIR"
            | "OUT_DIR"
    ) || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
}

/// A free loopback port for an app under test. Ports come from 20000–29999, below the
/// kernel's ephemeral range (32768+), so an emulator or provider binding port 0 can never
/// take the port between our check and the app's bind; each test process starts at its
/// own offset so concurrent test binaries do not race each other either.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: OnceLock<AtomicU32> = OnceLock::new();
    let next = NEXT.get_or_init(|| AtomicU32::new((std::process::id() % 400) * 25));
    for _ in 0..10_000 {
        let port = 20_000 + (next.fetch_add(1, Ordering::Relaxed) % 10_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in 20000-29999")
}

/// A running example app. Killed on drop (and its own data directory removed).
#[derive(Debug)]
pub struct ExampleApp {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Where its output goes.
    pub log: PathBuf,
    /// The data directory made for this run, unless the test gave one.
    own_data: Option<PathBuf>,
}

impl Drop for ExampleApp {
    fn drop(&mut self) {
        if let Some(dir) = &self.own_data {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl ExampleApp {
    /// Starts `package` with `env` (plus `BIND_ADDR`) and waits until `GET /` answers.
    pub async fn start(package: &str, port: u16, env: &[(&str, String)]) -> ExampleApp {
        let bin = example_binary(package);
        let base = format!("http://127.0.0.1:{port}");
        let log_dir = target_dir().join("e2e-logs");
        std::fs::create_dir_all(&log_dir).expect("log dir");
        let log = log_dir.join(format!("{package}-{port}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(&bin);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .env("ROCKET_CLI_COLORS", "false")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let own_data = (!env.iter().any(|(k, _)| *k == "IDME_DATA_DIR")).then(|| {
            let dir = fresh_data_dir(package);
            cmd.env("IDME_DATA_DIR", &dir);
            dir
        });
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a plain reqwest client builds");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "{package} exited with {status} before answering; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if let Ok(r) = client.get(format!("{base}/")).send().await
                && r.status().as_u16() == 200
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{package} did not answer GET / within 60 s; log: {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ExampleApp {
            child,
            base,
            log,
            own_data,
        }
    }

    /// Runs `package` with only `env` (plus `PATH` and `BIND_ADDR` on a free loopback
    /// port unless `env` sets it) and waits up to 60 s for it to exit by itself: for
    /// configurations that must refuse to start. Returns its exit status and output.
    pub async fn run_to_exit(
        package: &str,
        env: &[(&str, String)],
    ) -> (std::process::ExitStatus, String) {
        let bin = example_binary(package);
        let data = fresh_data_dir(package);
        let mut cmd = Command::new(&bin);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("RUST_LOG", "info")
            .env("IDME_DATA_DIR", &data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{package} was expected to exit but kept running"))
            .expect("waiting for the app");
        let _ = std::fs::remove_dir_all(&data);
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status, text)
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The app's output so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the app.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The audience an example app registers for security events in these tests.
pub const EVENTS_AUDIENCE: &str = "idme-e2e-events";

/// A data directory of its own for one run of `package` (its default app grants file),
/// under `target/<profile>/e2e-data`; a test that restarts an app passes its own
/// `IDME_DATA_DIR` in `env` instead.
fn fresh_data_dir(package: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    target_dir()
        .join("e2e-data")
        .join(format!("{package}-{}-{n}", std::process::id()))
}

/// An example app signing in against an emulator the test controls.
#[derive(Debug)]
pub struct Target {
    /// The emulator (set faults, read stats).
    pub emulator: Emulator,
    /// The app.
    pub app: ExampleApp,
}

impl Target {
    /// Starts an emulator (signing in `veteran` automatically) and the example configured
    /// for it through the environment contract, plus `extra` variables.
    pub async fn start(package: &str, extra: &[(&str, &str)]) -> Target {
        let config = EmulatorConfig {
            auto_user: Some(Persona::Veteran),
            ..EmulatorConfig::default()
        };
        Target::start_with(package, config, extra).await
    }

    /// Like [`start`](Self::start), with the emulator set up by `config` (for example
    /// `auto_user: None`, so that it shows its sign-in page). The app's redirect URI is
    /// added to `config.redirect_uris`.
    pub async fn start_with(
        package: &str,
        config: EmulatorConfig,
        extra: &[(&str, &str)],
    ) -> Target {
        Target::start_on(package, config, extra, false).await
    }

    /// Like [`start`](Self::start), with security events on: the app receives them at
    /// `/auth/events` for [`EVENTS_AUDIENCE`] (`IDME_EVENTS_AUDIENCE`), checked with the
    /// emulator's events keys (`IDME_EVENTS_JWKS_URL`), and the emulator delivers to it
    /// ([`Emulator::send_security_event`]).
    pub async fn start_with_events(package: &str, extra: &[(&str, &str)]) -> Target {
        let config = EmulatorConfig {
            auto_user: Some(Persona::Veteran),
            ..EmulatorConfig::default()
        };
        Target::start_on(package, config, extra, true).await
    }

    async fn start_on(
        package: &str,
        mut config: EmulatorConfig,
        extra: &[(&str, &str)],
        events: bool,
    ) -> Target {
        let port = free_port();
        let redirect = format!("http://127.0.0.1:{port}/auth/callback");
        config.redirect_uris.push(redirect.clone());
        // The black-box suites follow a sign-out through the provider's logout (RP-initiated
        // logout); ID.me's own discovery names no end_session_endpoint, a case the engine's
        // in-memory tests cover.
        config.end_session_endpoint = true;
        if events {
            config.events_receiver = Some(idme_testkit::EventsReceiver {
                url: format!("http://127.0.0.1:{port}/auth/events"),
                audience: EVENTS_AUDIENCE.to_owned(),
            });
        }
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let mut env = vec![
            ("IDME_ISSUER", emulator.issuer()),
            ("IDME_CLIENT_ID", emulator.client_id().to_owned()),
            ("IDME_CLIENT_SECRET", emulator.client_secret().to_owned()),
            ("IDME_REDIRECT_URI", redirect),
        ];
        if events {
            env.push(("IDME_EVENTS_AUDIENCE", EVENTS_AUDIENCE.to_owned()));
            env.push(("IDME_EVENTS_JWKS_URL", emulator.events_jwks_url()));
        }
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let app = ExampleApp::start(package, port, &env).await;
        Target { emulator, app }
    }

    /// `app` + `path`.
    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    /// A fresh port for an app started by hand.
    pub fn free_port() -> u16 {
        free_port()
    }
}

#[cfg(test)]
mod tests {
    use super::set_by_cargo_for_this_test;

    #[test]
    fn nested_build_drops_only_what_cargo_set_for_the_test() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_BIN_EXE_idme-e2e-browser",
            "CARGO_TARGET_TMPDIR",
        ] {
            assert!(set_by_cargo_for_this_test(name), "{name}");
        }
        for name in [
            "CARGO_TARGET_DIR",
            "CARGO_HOME",
            "CARGO_INCREMENTAL",
            "PATH",
            "CARGO",
        ] {
            assert!(!set_by_cargo_for_this_test(name), "{name}");
        }
    }
}
