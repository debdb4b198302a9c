//! The built `idme-example-cli` against its built-in emulator: a scripted browser through
//! `BROWSER`, the token file in a temporary directory.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_idme-example-cli");

/// The CLI with a clean environment: no `IDME_*` but the token file and the persona.
fn cli(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("IDME_TOKEN_FILE", dir.join("tokens.json"))
        .env("IDME_TESTKIT_USER", "veteran")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn finish(child: Child) -> Output {
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the CLI finishes")
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn run(dir: &Path, args: &[&str]) -> Output {
    finish(cli(dir, args).spawn().unwrap()).await
}

/// A `BROWSER` command that writes the URL it is given to `url.txt`.
fn browser_script(dir: &Path) -> (PathBuf, PathBuf) {
    let out = dir.join("url.txt");
    let script = dir.join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > {0}.tmp && mv {0}.tmp {0}\n",
            out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    (script, out)
}

/// What the browser does with the authorization URL: follows the emulator's redirect to
/// the CLI's loopback listener. Returns the listener's page.
async fn browse(url: &str) -> (u16, String) {
    let response = reqwest::get(url)
        .await
        .expect("the browser reaches the pages");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn login_whoami_logout_whoami() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (script, url_file) = browser_script(dir);

    let child = cli(dir, &["login"])
        .env("BROWSER", &script)
        .spawn()
        .unwrap();
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(&url_file) {
            break url;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(url.contains("/oauth/authorize?"), "{url}");
    let (status, page) = browse(&url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You can close this tab"), "{page}");
    let login = finish(child).await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let line = login.stdout.trim_end();
    assert!(line.starts_with("Signed in as Vera ("), "{line}");
    let sub = line
        .strip_prefix("Signed in as Vera (")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap()
        .to_owned();
    let tokens = std::fs::read_to_string(dir.join("tokens.json")).unwrap();
    let mode = std::fs::metadata(dir.join("tokens.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let whoami = run(dir, &["whoami"]).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    let me: serde_json::Value = serde_json::from_str(whoami.stdout.trim()).unwrap();
    assert_eq!(me["sub"], sub.as_str());
    let groups = me["verification"]["groups"].as_array().expect("groups");
    assert!(groups.iter().any(|g| g["group"] == "military"), "{me}");

    let logout = run(dir, &["logout"]).await;
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert_eq!(logout.stdout.lines().next(), Some("Signed out"));
    assert!(!dir.join("tokens.json").exists());

    let after = run(dir, &["whoami"]).await;
    assert_eq!(after.code, 1);
    assert_eq!(after.stdout, "");
    assert!(
        after
            .stderr
            .contains("Not signed in: run `idme-example-cli login`"),
        "{}",
        after.stderr
    );

    // No token of the stored session in any output.
    let stored: serde_json::Value = serde_json::from_str(&tokens).unwrap();
    let secrets: Vec<&str> = ["access_token", "refresh_token", "id_token", "nonce"]
        .iter()
        .filter_map(|k| stored[*k].as_str())
        .collect();
    assert!(!secrets.is_empty());
    for out in [&login, &whoami, &logout, &after] {
        for secret in &secrets {
            assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
        }
    }
}

#[tokio::test]
async fn no_browser_prints_the_url_on_stderr_and_waits() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mut child = cli(dir, &["login", "--no-browser"])
        .env("BROWSER", "/nonexistent/browser")
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next_line().await.unwrap().expect("the URL line");
        if let Some(url) = line.strip_prefix("Open this URL to sign in: ") {
            break url.to_owned();
        }
    };
    let (status, _) = browse(&url).await;
    assert_eq!(status, 200);
    let out = finish(child).await;
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.starts_with("Signed in as Vera ("),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn a_cancelled_login_is_one_line_on_stderr_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mut child = cli(dir, &["login", "--no-browser"]).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next_line().await.unwrap().expect("the URL line");
        if let Some(url) = line.strip_prefix("Open this URL to sign in: ") {
            break url.to_owned();
        }
    };
    let url = url::Url::parse(&url).unwrap();
    let get = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let denied = format!(
        "{}?error=access_denied&state={}",
        get("redirect_uri"),
        get("state")
    );
    let (status, _) = browse(&denied).await;
    assert_eq!(status, 400);
    let mut rest = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push_str(&line);
        rest.push('\n');
    }
    let out = finish(child).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(rest, "Sign-in cancelled at ID.me\n");
    assert!(!dir.join("tokens.json").exists());
}

#[tokio::test]
async fn emulator_mode_refuses_production_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = finish(
        cli(dir.path(), &["login"])
            .env("IDME_CLIENT_SECRET", "a-real-secret")
            .spawn()
            .unwrap(),
    )
    .await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("IDME_CLIENT_SECRET"), "{}", out.stderr);
    assert!(!out.stderr.contains("a-real-secret"));
}

/// Without `IDME_TOKEN_FILE` the CLI asks for the OS keyring; with no Secret Service (the
/// session bus it is given does not exist, as on a headless machine) it says so and keeps
/// the tokens in a `0600` file in the data directory, and whoami and logout find them there.
#[tokio::test]
async fn without_a_keyring_the_tokens_go_to_a_file_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (script, url_file) = browser_script(dir);
    let data = dir.join("data");
    let file = data.join("idme-example-cli").join("tokens.json");
    let without_token_file = |args: &[&str]| {
        let mut c = cli(dir, args);
        c.env_remove("IDME_TOKEN_FILE")
            // Never the desktop's own bus (and keyring) of whoever runs the tests.
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", dir.join("no-bus").display()),
            )
            .env("XDG_DATA_HOME", &data)
            .env("RUST_LOG", "idme_native=info");
        c
    };

    let child = without_token_file(&["login"])
        .env("BROWSER", &script)
        .spawn()
        .unwrap();
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(&url_file) {
            break url;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (status, page) = browse(&url).await;
    assert_eq!(status, 200, "{page}");
    let login = finish(child).await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(
        login.stdout.starts_with("Signed in as Vera ("),
        "{}",
        login.stdout
    );
    assert!(
        login
            .stderr
            .contains("the OS keyring cannot keep the tokens"),
        "{}",
        login.stderr
    );
    assert!(
        login.stderr.contains("tokens kept in a file"),
        "{}",
        login.stderr
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let whoami = finish(without_token_file(&["whoami"]).spawn().unwrap()).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    let logout = finish(without_token_file(&["logout"]).spawn().unwrap()).await;
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(!file.exists());
}

/// With a Secret Service on the session bus (GNOME Keyring, unlocked), the tokens go to the
/// keyring and no file is written; whoami reads them back and logout deletes them. Needs
/// `dbus-daemon` and `gnome-keyring-daemon` (Debian: dbus, gnome-keyring), which the suite
/// does not install: `cargo test -p idme-example-cli --test cli -- --ignored`.
#[tokio::test]
#[ignore = "needs dbus-daemon and gnome-keyring-daemon"]
async fn with_a_secret_service_the_tokens_go_to_the_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (script, url_file) = browser_script(dir);
    let bus = format!("unix:path={}", dir.join("bus").display());
    let mut dbus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--address", &bus])
        .kill_on_drop(true)
        .spawn()
        .expect("dbus-daemon");
    while !dir.join("bus").exists() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut keyring = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("HOME", dir)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("gnome-keyring-daemon");
    {
        use tokio::io::AsyncWriteExt as _;
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"test password").await.unwrap();
    }
    // It prints its environment once it serves.
    let mut lines = BufReader::new(keyring.stdout.take().unwrap()).lines();
    lines
        .next_line()
        .await
        .unwrap()
        .expect("the keyring started");
    let with_keyring = |args: &[&str]| {
        let mut c = cli(dir, args);
        c.env_remove("IDME_TOKEN_FILE")
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("RUST_LOG", "idme_native=info");
        c
    };

    let child = with_keyring(&["login"])
        .env("BROWSER", &script)
        .spawn()
        .unwrap();
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(&url_file) {
            break url;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    browse(&url).await;
    let login = finish(child).await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(
        login.stderr.contains("tokens kept in the OS keyring"),
        "{}",
        login.stderr
    );
    assert!(!dir.join("data").exists(), "no token file");
    let whoami = finish(with_keyring(&["whoami"]).spawn().unwrap()).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    assert!(whoami.stdout.contains("\"sub\""), "{}", whoami.stdout);
    let logout = finish(with_keyring(&["logout"]).spawn().unwrap()).await;
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    let after = finish(with_keyring(&["whoami"]).spawn().unwrap()).await;
    assert_eq!(after.code, 1, "{}", after.stdout);
    keyring.kill().await.unwrap();
    dbus.kill().await.unwrap();
}
