//! The command-line example's loopback listener seen from outside the process: a forged
//! callback (wrong `state`) is refused without ending `login` (whoever reached the port
//! cannot end the sign-in), which then ends at its timeout with exit 1 and no tokens; the
//! listener is closed once `login` has ended, whether it succeeded or not. Nothing is
//! configured (the built-in emulator), and `--no-browser` gives the test the URL.

use std::time::Duration;

use idme_e2e::cli::{CliHome, CliProcess, OPEN_URL_PREFIX};
use url::Url;

/// The `redirect_uri` of the printed authorization URL.
async fn redirect_uri(login: &mut CliProcess) -> Url {
    let url = login.sign_in_url().await;
    let redirect = url
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no redirect_uri in {url}"));
    Url::parse(&redirect).expect("the redirect_uri is a URL")
}

/// Whether something accepts connections on `url`'s port (waits up to 5 s for it to close).
async fn still_listening(url: &Url) -> bool {
    let port = url.port().expect("a loopback port");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_callback_with_a_wrong_state_is_refused_and_the_wait_goes_on() {
    let mut cli = CliHome::new("forged-state");
    cli.set("IDME_LOGIN_TIMEOUT", "3");
    let mut login = cli.spawn(&["login", "--no-browser"]).await;
    let redirect = redirect_uri(&mut login).await;

    let mut forged = redirect.clone();
    forged
        .query_pairs_mut()
        .append_pair("code", "forged-code")
        .append_pair("state", "forged-state");
    let answer = reqwest::get(forged.as_str())
        .await
        .expect("the listener answers the browser");
    let status = answer.status();
    let body = answer.text().await.unwrap_or_default();
    assert!(
        status.is_client_error(),
        "the browser is told the request is not this sign-in's: {status} {body}"
    );
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", redirect.port().unwrap_or(0)))
            .await
            .is_ok(),
        "the listener still waits for the real redirect"
    );

    let run = login.finish().await;
    assert_eq!(run.code(), 1, "{run}");
    assert!(
        run.stderr.contains("timed out"),
        "ended by its timeout, not by the forged request: {run}"
    );
    assert!(!run.stdout.contains("Signed in"), "{run}");
    assert!(!run.stderr.contains("forged-code"), "{run}");
    assert!(!cli.token_file().exists(), "no tokens stored: {run}");
    assert!(
        !still_listening(&redirect).await,
        "the listener closed with the failed login"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_closes_after_a_successful_login() {
    let mut cli = CliHome::new("listener-closes");
    // The emulator signs the veteran in without a page; the scripted browser follows it.
    cli.set("IDME_TESTKIT_USER", "veteran");
    let login = cli.run(&["login"]).await;
    assert_eq!(login.code(), 0, "{login}");
    let report = cli.browser_report().await;
    let landed = Url::parse(report["url"].as_str().unwrap_or_default()).expect("a URL");
    assert_eq!(landed.path(), "/callback", "{report}");
    assert!(
        !still_listening(&landed).await,
        "nothing answers on the loopback port after login: {landed}"
    );
    let whoami = cli.run(&["whoami"]).await;
    assert_eq!(whoami.code(), 0, "{whoami}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_state_with_a_forged_code_exits_1_and_stores_nothing() {
    let cli = CliHome::new("forged-code");
    let mut login = cli.spawn(&["login", "--no-browser"]).await;
    let url = login.sign_in_url().await;
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state");
    let mut forged = redirect_uri(&mut login).await;
    forged
        .query_pairs_mut()
        .append_pair("code", "forged-code-0123456789")
        .append_pair("state", &state);
    let answer = reqwest::get(forged.as_str())
        .await
        .expect("the listener answers");
    assert!(answer.status().is_client_error(), "{}", answer.status());

    let run = login.finish().await;
    assert_eq!(run.code(), 1, "the provider refused the code: {run}");
    assert!(run.stderr.contains("Sign-in failed"), "{run}");
    assert!(!run.stderr.contains("forged-code-0123456789"), "{run}");
    assert!(!cli.token_file().exists(), "no tokens stored: {run}");
    assert!(!still_listening(&forged).await, "the listener closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_times_out_after_idme_login_timeout() {
    let mut cli = CliHome::new("login-timeout");
    cli.set("IDME_LOGIN_TIMEOUT", "1");
    let started = std::time::Instant::now();
    let mut login = cli.spawn(&["login", "--no-browser"]).await;
    let redirect = redirect_uri(&mut login).await;
    let run = login.finish().await;
    assert_eq!(run.code(), 1, "{run}");
    assert!(
        run.stderr.contains("timed out"),
        "the message says it timed out: {run}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "ended by the 1 s timeout, not the test's: {:?}",
        started.elapsed()
    );
    assert!(!cli.token_file().exists(), "no tokens stored: {run}");
    assert!(!still_listening(&redirect).await, "the listener closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_loopback_port_exits_1_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = taken.local_addr().expect("bound").port();
    let mut cli = CliHome::new("port-taken");
    cli.set(
        "IDME_REDIRECT_URI",
        &format!("http://127.0.0.1:{port}/callback"),
    );
    let run = cli.run(&["login", "--no-browser"]).await;
    assert_eq!(run.code(), 1, "{run}");
    assert!(
        run.stderr.contains(&port.to_string()) && run.stderr.to_lowercase().contains("in use"),
        "the message names the port and says it is in use: {run}"
    );
    assert!(
        !run.stderr.contains(OPEN_URL_PREFIX),
        "no URL to open: {run}"
    );
    assert!(!cli.token_file().exists(), "{run}");
    drop(taken);
}
