//! The loopback listener under hostile or clumsy traffic, over real TCP on 127.0.0.1:
//! other paths, a foreign `Host`, a missing or wrong `state`, idle connections and second
//! requests never end the wait nor discard a sign-in; the real redirect still completes.

use super::common;

use std::time::Duration;

use common::*;
use idme_native::{NativeClient, NativeError, NativeSession};
use idme_testkit::{Emulator, Fault, Persona};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The longest any single exchange with the listener may take in these tests.
const BOUND: Duration = Duration::from_secs(5);

/// A login waiting on its listener.
struct Waiting {
    emulator: Emulator,
    login: JoinHandle<Result<NativeSession, NativeError>>,
    /// The authorization URL.
    url: String,
    port: u16,
    state: String,
}

async fn waiting_with(timeout: Option<Duration>, faults: Vec<Fault>) -> Waiting {
    let (emulator, idme) = setup(Persona::Veteran).await;
    emulator.set_faults(faults);
    let (opener, mut urls) = capturing();
    let mut client: NativeClient = client(&idme, opener);
    if let Some(t) = timeout {
        client = client.timeout(t);
    }
    let login = tokio::spawn(async move { client.login().await });
    let url = urls.recv().await.expect("an authorization URL");
    let (redirect, state) = redirect_and_state(&url);
    let port = port_of(&redirect);
    Waiting {
        emulator,
        login,
        url,
        port,
        state,
    }
}

async fn waiting() -> Waiting {
    waiting_with(None, Vec::new()).await
}

impl Waiting {
    /// The path and query of the real redirect (a code the emulator issued, the state).
    async fn real_target(&self) -> String {
        let callback = url::Url::parse(&callback_url(&self.url).await).unwrap();
        format!("{}?{}", callback.path(), callback.query().unwrap())
    }

    /// `GET target` with the right `Host`.
    async fn get(&self, target: &str) -> (u16, String) {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        exchange(self.port, &request).await
    }

    /// The login's outcome, which must come within [`BOUND`].
    async fn outcome(self) -> Result<NativeSession, NativeError> {
        let port = self.port;
        let result = tokio::time::timeout(BOUND, self.login)
            .await
            .expect("the login ends in time")
            .expect("the login task does not panic");
        assert!(!listening(port).await, "the listener is closed");
        result
    }

    /// Asserts the login is still waiting.
    async fn assert_waiting(&self) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!self.login.is_finished(), "the login still waits");
        assert!(listening(self.port).await, "the listener still listens");
    }
}

/// Sends `request` raw and returns the status and body of the answer.
async fn exchange(port: u16, request: &str) -> (u16, String) {
    let talk = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8(answer).unwrap()
    };
    let answer = tokio::time::timeout(BOUND, talk)
        .await
        .expect("the listener answers in time");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {answer:?}"));
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_owned())
}

#[tokio::test]
async fn other_paths_get_404_and_the_wait_goes_on() {
    let w = waiting().await;
    let state = w.state.clone();
    for target in [
        "/favicon.ico".to_owned(),
        format!("/other?code=x&state={state}"),
        format!("/callback/more?code=x&state={state}"),
        format!("/Callback?code=x&state={state}"),
    ] {
        assert_eq!(w.get(&target).await.0, 404, "{target}");
        w.assert_waiting().await;
    }
    let real = w.real_target().await;
    assert_eq!(w.emulator.stats().token, 0, "nothing was redeemed");
    assert_eq!(w.get(&real).await.0, 200);
    w.outcome().await.expect("signed in");
}

#[tokio::test]
async fn a_foreign_host_is_refused_and_the_wait_goes_on() {
    let w = waiting().await;
    // The real redirect itself, sent by a page of another site whose name was rebound to
    // 127.0.0.1, or with a Host the redirect URI does not use.
    let real = w.real_target().await;
    let port = w.port;
    for host in [
        format!("Host: evil.example:{port}\r\n"),
        "Host: evil.example\r\n".to_owned(),
        format!("Host: localhost:{port}\r\n"),
        format!("Host: 127.0.0.1:{}\r\n", port.wrapping_add(1)),
        format!("Host: [::1]:{port}\r\n"),
        String::new(),
        format!("Host: 127.0.0.1:{port}\r\nHost: evil.example\r\n"),
    ] {
        let request = format!("GET {real} HTTP/1.1\r\n{host}Connection: close\r\n\r\n");
        let (status, _) = exchange(port, &request).await;
        assert!(status == 400 || status == 421, "{status} for {host:?}");
        w.assert_waiting().await;
    }
    assert_eq!(w.emulator.stats().token, 0, "nothing was redeemed");
    // The Host header's name and value are case-insensitive.
    let request = format!("GET {real} HTTP/1.1\r\nhOST: 127.0.0.1:{port}\r\n\r\n");
    assert_eq!(exchange(port, &request).await.0, 200);
    w.outcome().await.expect("signed in");
}

#[tokio::test]
async fn a_missing_or_wrong_state_shows_an_error_page_and_the_wait_goes_on() {
    let w = waiting().await;
    let wrong = format!("{}x", w.state);
    let short = &w.state[..w.state.len() - 1];
    for target in [
        "/callback".to_owned(),
        "/callback?code=forged".to_owned(),
        "/callback?code=forged&state=".to_owned(),
        "/callback?code=forged&state=forged".to_owned(),
        format!("/callback?code=forged&state={wrong}"),
        format!("/callback?code=forged&state={short}"),
    ] {
        let (status, body) = w.get(&target).await;
        assert_eq!(status, 400, "{target}");
        assert!(body.contains("does not belong"), "{body}");
        assert!(!body.contains(&w.state), "the page never shows the state");
        w.assert_waiting().await;
    }
    assert_eq!(w.emulator.stats().token, 0, "nothing was redeemed");
    let real = w.real_target().await;
    assert_eq!(w.get(&real).await.0, 200);
    w.outcome().await.expect("signed in");
}

#[tokio::test]
async fn an_error_redirect_ends_the_wait_only_with_the_right_state() {
    let w = waiting().await;
    for target in [
        "/callback?error=access_denied".to_owned(),
        "/callback?error=access_denied&state=forged".to_owned(),
    ] {
        assert_eq!(w.get(&target).await.0, 400, "{target}");
        w.assert_waiting().await;
    }
    let target = format!("/callback?error=access_denied&state={}", w.state);
    let (status, body) = w.get(&target).await;
    assert_eq!(status, 400);
    assert!(body.contains("cancelled"), "{body}");
    let e = w.outcome().await.unwrap_err();
    assert!(matches!(e, NativeError::Cancelled), "{e:?}");
}

#[tokio::test]
async fn an_idle_connection_does_not_stall_the_listener() {
    let w = waiting().await;
    // A browser's speculative connection that never sends, and one stuck mid request line.
    let mut idle = TcpStream::connect(("127.0.0.1", w.port)).await.unwrap();
    let mut half = TcpStream::connect(("127.0.0.1", w.port)).await.unwrap();
    half.write_all(b"GET /call").await.unwrap();
    w.assert_waiting().await;
    let real = w.real_target().await;
    assert_eq!(w.get(&real).await.0, 200, "served while the others idle");
    w.outcome().await.expect("signed in");
    // The listener's end of the idle connections is gone with it.
    for stream in [&mut idle, &mut half] {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(BOUND, stream.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0) | Err(_))),
            "closed, not left hanging: {read:?}"
        );
    }
}

#[tokio::test]
async fn an_oversized_request_is_refused_and_the_wait_goes_on() {
    let w = waiting().await;
    let request = format!(
        "GET /callback?state={} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        "a".repeat(64 * 1024),
        w.port
    );
    let talk = async {
        let mut stream = TcpStream::connect(("127.0.0.1", w.port)).await.unwrap();
        // The listener may stop reading (and close) before the whole request is written.
        let _ = stream.write_all(request.as_bytes()).await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        answer
    };
    let answer = tokio::time::timeout(BOUND, talk).await.expect("in time");
    assert!(!answer.starts_with(b"HTTP/1.1 200"));
    w.assert_waiting().await;
    let real = w.real_target().await;
    assert_eq!(w.get(&real).await.0, 200);
    w.outcome().await.expect("signed in");
}

#[tokio::test]
async fn a_second_request_never_discards_the_redeemed_tokens() {
    // The code exchange takes a while: the other requests arrive during it.
    let w = waiting_with(None, vec![Fault::SlowToken(Duration::from_millis(400))]).await;
    let real = w.real_target().await;
    let port = w.port;
    let first = {
        let real = real.clone();
        tokio::spawn(async move {
            let request = format!(
                "GET {real} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            );
            exchange(port, &request).await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The same redirect again (a reload, or a copy), and another valid-looking one.
    let (status, body) = w.get(&real).await;
    assert_eq!(status, 409);
    assert!(body.contains("already"), "{body}");
    let forged = format!("/callback?code=other&state={}", w.state);
    assert_eq!(w.get(&forged).await.0, 409);
    assert_eq!(w.get("/favicon.ico").await.0, 404);

    let (status, body) = first.await.unwrap();
    assert_eq!(status, 200, "{body}");
    let session = w
        .outcome()
        .await
        .expect("the first redirect's sign-in stands");
    assert_eq!(session.user().given_name(), Some("Vera"));
}

#[tokio::test]
async fn the_timeout_still_ends_the_wait() {
    let timeout = Duration::from_secs(1);
    let w = waiting_with(Some(timeout), Vec::new()).await;
    let mut idle = TcpStream::connect(("127.0.0.1", w.port)).await.unwrap();
    assert_eq!(w.get("/callback?code=x&state=forged").await.0, 400);
    let e = w.outcome().await.unwrap_err();
    assert!(
        matches!(e, NativeError::Timeout(d) if d == timeout),
        "{e:?}"
    );
    let mut buf = [0u8; 8];
    let read = tokio::time::timeout(BOUND, idle.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0) | Err(_))), "{read:?}");
}
