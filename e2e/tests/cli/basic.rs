//! The command-line example (`idme-example-cli`) end to end, as a process, against
//! oidc-provider as a public native client: `BROWSER` is the scripted browser, which signs
//! in (or cancels) at the provider's pages and lands on the app's loopback listener. Tokens
//! go to `IDME_TOKEN_FILE` in a temporary directory.

use idme_e2e::cli::{CliHome, CliRun, assert_no_secret_printed, issued_tokens, native_provider};
use idme_e2e::oidc_provider::{OidcProvider, SUB};

/// What `whoami` says when nothing is stored.
const NOT_SIGNED_IN: &str = "Not signed in: run `idme-example-cli login`";

/// oidc-provider's account: given name `Interop`, the login as `sub`.
fn signed_in_line() -> String {
    format!("Signed in as Interop ({SUB})")
}

/// Asserts `run` ended with `code`, showing everything it printed otherwise.
fn assert_exit(run: &CliRun, code: i32, what: &str, provider: Option<&OidcProvider>) {
    assert_eq!(
        run.code(),
        code,
        "{what}: {run}\n--- provider ---\n{}",
        provider.map(OidcProvider::output).unwrap_or_default()
    );
}

/// Asserts the scripted browser ended on the app's loopback `/callback` with the "you can
/// close this tab" page; returns the report.
async fn assert_close_this_tab(cli: &CliHome) -> serde_json::Value {
    let report = cli.browser_report().await;
    let landed = url::Url::parse(report["url"].as_str().unwrap_or_default()).expect("a URL");
    assert_eq!(
        (landed.host_str(), landed.path()),
        (Some("127.0.0.1"), "/callback"),
        "the browser lands on the app's loopback listener: {report}"
    );
    assert!(
        landed.port().is_some_and(|p| p != 0),
        "on the port the app bound: {landed}"
    );
    assert_eq!(report["status"], 200, "{report}");
    let body = report["body"].as_str().unwrap_or_default().to_lowercase();
    assert!(
        body.contains("close this tab"),
        "the \"you can close this tab\" page: {report}"
    );
    report
}

/// `login` → `whoami` → `logout` → `whoami`, against oidc-provider as a public client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_whoami_logout_against_oidc_provider() {
    let provider = native_provider().await;
    let cli = CliHome::for_provider("login-whoami-logout", &provider);

    let login = cli.run(&["login"]).await;
    assert_exit(&login, 0, "login", Some(&provider));
    assert!(
        login.stdout.lines().any(|l| l.trim() == signed_in_line()),
        "login prints {:?}: {login}",
        signed_in_line()
    );
    assert_close_this_tab(&cli).await;
    let file = cli.token_file();
    assert!(file.is_file(), "tokens kept in IDME_TOKEN_FILE: {login}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the token file is the user's only: {mode:o}"
        );
    }
    let stats = provider.stats().await;
    assert_eq!(
        stats["token_auth_methods"],
        serde_json::json!({ "none": 1 }),
        "one code exchange, as a public client: {stats}"
    );
    assert_eq!(stats["errors"], serde_json::json!([]), "{stats}");

    let whoami = cli.run(&["whoami"]).await;
    assert_exit(&whoami, 0, "whoami", Some(&provider));
    let me: serde_json::Value = serde_json::from_str(whoami.stdout.trim())
        .unwrap_or_else(|e| panic!("whoami prints one JSON object ({e}): {whoami}"));
    assert_eq!(me["sub"], SUB, "{me}");
    assert!(
        me.get("verification").is_some(),
        "shaped like GET /me (sub, claims, verification): {me}"
    );

    let logout = cli.run(&["logout"]).await;
    assert_exit(&logout, 0, "logout", Some(&provider));
    let mut lines = logout.stdout.lines();
    assert_eq!(lines.next().map(str::trim), Some("Signed out"), "{logout}");
    if let Some(url) = lines.next() {
        assert!(
            url.trim().starts_with(&format!("{}/", provider.issuer())),
            "the second line is the provider's logout URL: {logout}"
        );
    }

    let again = cli.run(&["whoami"]).await;
    assert_exit(&again, 1, "whoami after logout", None);
    assert!(again.stderr.contains(NOT_SIGNED_IN), "{again}");
    assert_eq!(again.stdout.trim(), "", "{again}");

    let runs = [
        ("login", &login),
        ("whoami", &whoami),
        ("logout", &logout),
        ("whoami", &again),
    ];
    assert_no_secret_printed(&runs, &issued_tokens(&provider).await);
}

/// The person cancels on the provider's login page: the provider answers `access_denied`,
/// the browser is told so, and `login` exits 1 saying it was cancelled, with no token file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_at_the_provider_exits_1_and_stores_nothing() {
    let provider = native_provider().await;
    let mut cli = CliHome::for_provider("cancel", &provider);
    cli.set("IDME_E2E_BROWSER_ACTION", "cancel");

    let login = cli.run(&["login"]).await;
    assert_exit(&login, 1, "cancelled login", Some(&provider));
    assert!(
        login.stderr.to_lowercase().contains("cancel"),
        "a clear message: {login}"
    );
    assert!(!login.stdout.contains("Signed in"), "{login}");
    assert!(!cli.token_file().exists(), "no token file: {login}");
    let report = cli.browser_report().await;
    let landed = url::Url::parse(report["url"].as_str().unwrap_or_default()).expect("a URL");
    assert_eq!(
        (landed.host_str(), landed.path()),
        (Some("127.0.0.1"), "/callback"),
        "the provider sent the browser back to the app: {report}"
    );
    assert!(
        landed
            .query_pairs()
            .any(|(k, v)| k == "error" && v == "access_denied"),
        "{report}"
    );
    let stats = provider.stats().await;
    assert_eq!(stats["token_grants"], 0, "nothing redeemed: {stats}");

    let whoami = cli.run(&["whoami"]).await;
    assert_exit(&whoami, 1, "whoami after a cancelled login", None);
    assert!(whoami.stderr.contains(NOT_SIGNED_IN), "{whoami}");
}

/// `whoami` on a machine where nobody signed in, nothing configured: exit 1, the message
/// on stderr, nothing on stdout, and no token file created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_with_nothing_stored_exits_1() {
    let cli = CliHome::new("whoami-nothing");
    let whoami = cli.run(&["whoami"]).await;
    assert_exit(&whoami, 1, "whoami", None);
    assert!(whoami.stderr.contains(NOT_SIGNED_IN), "{whoami}");
    assert_eq!(whoami.stdout.trim(), "", "{whoami}");
    assert!(!cli.token_file().exists(), "whoami creates no token file");
}

/// With debug logging on, no access, refresh or ID token the provider issued, nor the
/// authorization code, shows in anything `login`, `whoami` or `logout` print.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_in_any_output_with_debug_logging() {
    let provider = native_provider().await;
    let mut cli = CliHome::for_provider("no-token-in-output", &provider);
    cli.set("RUST_LOG", "debug");

    let login = cli.run(&["login"]).await;
    assert_exit(&login, 0, "login", Some(&provider));
    let report = assert_close_this_tab(&cli).await;
    let code = url::Url::parse(report["url"].as_str().unwrap_or_default())
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        })
        .expect("the callback carried a code");
    let whoami = cli.run(&["whoami"]).await;
    assert_exit(&whoami, 0, "whoami", Some(&provider));
    let logout = cli.run(&["logout"]).await;
    assert_exit(&logout, 0, "logout", Some(&provider));

    let mut secrets = issued_tokens(&provider).await;
    assert!(
        secrets.len() >= 3,
        "the provider issued access, refresh and ID tokens: {}",
        secrets.len()
    );
    secrets.push(code);
    let runs = [("login", &login), ("whoami", &whoami), ("logout", &logout)];
    assert_no_secret_printed(&runs, &secrets);
}
