//! The app commands (`device-login`, `whoami`, `logout` with `--app`) as a process against
//! a scripted stand-in for an app's token endpoints (raw HTTP on loopback): the error paths
//! that need no real app, the refresh with rotation, the revocation. The real example apps
//! are driven by the black-box suites (`e2e/tests/device_*.rs`, `e2e/tests/cli_device.rs`).

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_idme-example-cli");
const DEVICE_CODE: &str = "DC-do-not-print-0123456789abcdef";
const ACCESS: &str = "AT-do-not-print-1";
const REFRESH: &str = "RT-do-not-print-1";
const ACCESS_2: &str = "AT-do-not-print-2";
const REFRESH_2: &str = "RT-do-not-print-2";

/// What the stand-in answers, and what it was asked.
#[derive(Default)]
struct Script {
    /// `/auth/device/code` answers 401 `invalid_client`.
    unknown_client: bool,
    /// The device code's `expires_in`.
    expires_in: u64,
    /// `authorization_pending` this many times, then this error (or the tokens).
    pending: u32,
    poll_error: Option<&'static str>,
    /// `/me` accepts this access token.
    me_accepts: &'static str,
    /// `/auth/token` refuses refreshes with `invalid_grant`.
    refuse_refresh: bool,
    /// Every request: path, body (and `Authorization` for `/me`).
    seen: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Script>>;

async fn stand_in(script: Script) -> (String, Shared) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shared = Arc::new(Mutex::new(script));
    let state = Arc::clone(&shared);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let (head, body) = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    raw.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&raw).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break (head.to_owned(), body.to_owned());
                        }
                    }
                };
                let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                let auth = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("authorization: ")
                            .or(l.strip_prefix("Authorization: "))
                    })
                    .unwrap_or_default()
                    .to_owned();
                let (status, json) = answer(&mut state.lock().unwrap(), &path, &body, &auth);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
                    json.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (base, shared)
}

fn answer(script: &mut Script, path: &str, body: &str, auth: &str) -> (u16, String) {
    let seen = if path == "/me" { auth } else { body };
    script.seen.push((path.to_owned(), seen.to_owned()));
    let tokens = |at: &str, rt: &str| {
        format!(
            r#"{{"access_token":"{at}","token_type":"Bearer","expires_in":600,"refresh_token":"{rt}"}}"#
        )
    };
    let error = |e: &str| format!(r#"{{"error":"{e}","error_description":"scripted"}}"#);
    match path {
        "/auth/device/code" if script.unknown_client => (401, error("invalid_client")),
        "/auth/device/code" => (
            200,
            format!(
                r#"{{"device_code":"{DEVICE_CODE}","user_code":"WDJB-MJHT","verification_uri":"http://127.0.0.1:1/auth/device","verification_uri_complete":"http://127.0.0.1:1/auth/device?user_code=WDJB-MJHT","expires_in":{},"interval":1}}"#,
                script.expires_in
            ),
        ),
        "/auth/device/token" if script.pending > 0 => {
            script.pending -= 1;
            (400, error("authorization_pending"))
        }
        "/auth/device/token" => match script.poll_error {
            Some(e) => (400, error(e)),
            None => (200, tokens(ACCESS, REFRESH)),
        },
        "/auth/token" if script.refuse_refresh => (400, error("invalid_grant")),
        "/auth/token" => {
            script.me_accepts = ACCESS_2;
            (200, tokens(ACCESS_2, REFRESH_2))
        }
        "/auth/revoke" => (200, String::new()),
        "/me" if auth == format!("Bearer {}", script.me_accepts) => {
            (200, r#"{"sub":"user-1","verification":null}"#.to_owned())
        }
        "/me" => (401, error("invalid_token")),
        _ => (404, error("not_found")),
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("IDME_TOKEN_FILE", dir.join("tokens.json"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), out)
        .await
        .expect("the CLI finishes")
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for secret in [DEVICE_CODE, ACCESS, REFRESH, ACCESS_2, REFRESH_2] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{args:?} printed a token:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

#[tokio::test]
async fn denied_expired_and_unknown_client_exit_1_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    for (script, expected) in [
        (
            Script {
                expires_in: 60,
                pending: 1,
                poll_error: Some("access_denied"),
                ..Script::default()
            },
            "Sign-in denied",
        ),
        (
            Script {
                expires_in: 60,
                poll_error: Some("expired_token"),
                ..Script::default()
            },
            "The code expired before it was approved",
        ),
        (
            // Never approved: the CLI gives up at `expires_in` by itself.
            Script {
                expires_in: 1,
                pending: u32::MAX,
                ..Script::default()
            },
            "The code expired before it was approved",
        ),
        (
            Script {
                unknown_client: true,
                ..Script::default()
            },
            "does not know the client id \"idme-example-device\"",
        ),
    ] {
        let (base, _script) = stand_in(script).await;
        let run = run(dir.path(), &["device-login", "--app", &base]).await;
        assert_eq!(run.code, 1, "{expected}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
        assert_eq!(run.stdout, "");
        let whoami = self::run(dir.path(), &["whoami", "--app", &base]).await;
        assert_eq!(whoami.code, 1, "nothing stored: {}", whoami.stderr);
    }
}

#[tokio::test]
async fn device_login_prints_the_code_and_polls_then_whoami_refreshes_and_logout_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let (base, script) = stand_in(Script {
        expires_in: 60,
        pending: 1,
        me_accepts: ACCESS,
        ..Script::default()
    })
    .await;
    let login = run(
        dir.path(),
        &["device-login", "--app", &base, "--scope", "military"],
    )
    .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(
        login.stderr.contains("enter the code WDJB-MJHT"),
        "{}",
        login.stderr
    );
    assert!(
        login
            .stderr
            .contains("Or open this URL: http://127.0.0.1:1/auth/device?user_code=WDJB-MJHT"),
        "{}",
        login.stderr
    );
    {
        let seen = &script.lock().unwrap().seen;
        let asked = &seen[0].1;
        assert!(
            asked.contains("client_id=idme-example-device") && asked.contains("scope=military"),
            "{asked}"
        );
        assert_eq!(
            seen.iter()
                .filter(|(p, _)| p == "/auth/device/token")
                .count(),
            2,
            "polled until approved"
        );
    }
    // The ID.me session's file is untouched; the app's tokens are beside it.
    assert!(!dir.path().join("tokens.json").exists());

    let whoami = run(dir.path(), &["whoami", "--app", &base]).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    let me: serde_json::Value = serde_json::from_str(whoami.stdout.trim()).unwrap();
    assert_eq!(me["sub"], "user-1");

    // The app stops accepting the access token: one refresh, the rotated token kept.
    script.lock().unwrap().me_accepts = "another";
    let whoami = run(dir.path(), &["whoami", "--app", &base]).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    let refreshes: Vec<String> = script
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter(|(p, _)| p == "/auth/token")
        .map(|(_, b)| b.clone())
        .collect();
    assert_eq!(refreshes.len(), 1);
    assert!(
        refreshes[0].contains("grant_type=refresh_token") && refreshes[0].contains(REFRESH),
        "{}",
        refreshes[0]
    );

    let logout = run(dir.path(), &["logout", "--app", &base]).await;
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    let revoked = script
        .lock()
        .unwrap()
        .seen
        .iter()
        .rev()
        .find(|(p, _)| p == "/auth/revoke")
        .map(|(_, b)| b.clone())
        .expect("a revocation");
    assert!(
        revoked.contains(REFRESH_2),
        "the rotated refresh token is revoked: {revoked}"
    );
    let after = run(dir.path(), &["whoami", "--app", &base]).await;
    assert_eq!(after.code, 1);
    assert!(
        after.stderr.contains("Not signed in to"),
        "{}",
        after.stderr
    );
}

#[tokio::test]
async fn a_refused_refresh_signs_out() {
    let dir = tempfile::tempdir().unwrap();
    let (base, script) = stand_in(Script {
        expires_in: 60,
        me_accepts: ACCESS,
        ..Script::default()
    })
    .await;
    assert_eq!(
        run(dir.path(), &["device-login", "--app", &base])
            .await
            .code,
        0
    );
    {
        let mut s = script.lock().unwrap();
        s.me_accepts = "another";
        s.refuse_refresh = true;
    }
    let whoami = run(dir.path(), &["whoami", "--app", &base]).await;
    assert_eq!(whoami.code, 1);
    assert!(
        whoami.stderr.contains("Not signed in to"),
        "{}",
        whoami.stderr
    );
    assert_eq!(whoami.stdout, "");
    // Forgotten: no second refresh is tried.
    let again = run(dir.path(), &["whoami", "--app", &base]).await;
    assert_eq!(again.code, 1);
    let refreshes = script
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter(|(p, _)| p == "/auth/token")
        .count();
    assert_eq!(refreshes, 1);
}

#[tokio::test]
async fn unreachable_apps_and_bad_arguments_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let run1 = run(dir.path(), &["device-login", "--app", &closed]).await;
    assert_eq!(run1.code, 1);
    assert!(
        run1.stderr.contains("cannot reach the app"),
        "{}",
        run1.stderr
    );
    let run2 = run(dir.path(), &["device-login", "--app", "http://app.example"]).await;
    assert_eq!(run2.code, 1);
    assert!(run2.stderr.contains("use https"), "{}", run2.stderr);
    let run3 = run(dir.path(), &["device-login"]).await;
    assert_eq!(run3.code, 1);
    assert!(run3.stderr.contains("--app"), "{}", run3.stderr);
    let run4 = run(dir.path(), &["whoami", "--app", &closed]).await;
    assert_eq!(run4.code, 1);
    assert!(run4.stderr.contains("Not signed in to"), "{}", run4.stderr);
    let run5 = run(dir.path(), &["logout", "--app", &closed]).await;
    assert_eq!(run5.code, 0, "nothing to revoke: {}", run5.stderr);
}

/// The stored access token has expired: refreshed before `/me` is called, not after a 401.
#[tokio::test]
async fn an_expired_access_token_is_refreshed_first() {
    let dir = tempfile::tempdir().unwrap();
    let (base, script) = stand_in(Script {
        expires_in: 60,
        me_accepts: ACCESS,
        ..Script::default()
    })
    .await;
    assert_eq!(
        run(dir.path(), &["device-login", "--app", &base])
            .await
            .code,
        0
    );
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("tokens.app-"))
        .expect("the app's tokens beside the token file")
        .path();
    let mut stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    stored["expires_at"] = 1.into();
    std::fs::write(&file, stored.to_string()).unwrap();
    script.lock().unwrap().seen.clear();

    let whoami = run(dir.path(), &["whoami", "--app", &base]).await;
    assert_eq!(whoami.code, 0, "{}", whoami.stderr);
    let paths: Vec<String> = script
        .lock()
        .unwrap()
        .seen
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(paths, ["/auth/token", "/me"], "refreshed, then one call");
}
