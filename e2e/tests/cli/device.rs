//! The command-line example's app commands end to end against each running example app:
//! `device-login --app` (the person's side scripted through the emulator's login),
//! `whoami --app`, `logout --app`; no token in any output.

use idme_e2e::apps::{confirmation_page, decision_form, get_bearer, person_decides};
use idme_e2e::cli::{CliHome, CliRun, assert_no_secret_printed};
use idme_e2e::device_scenarios::start;
use idme_testkit::Persona;
use idme_testkit::browser::Browser;

/// The line of `device-login` with the complete verification URL.
const COMPLETE_URL_PREFIX: &str = "Or open this URL: ";

/// The app tokens file the CLI keeps beside `IDME_TOKEN_FILE`.
fn stored_tokens(cli: &CliHome) -> serde_json::Value {
    let file = cli.token_file();
    let dir = file.parent().expect("a directory");
    let found: Vec<_> = std::fs::read_dir(dir)
        .expect("the directory")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("tokens.app-"))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one file for the app, beside the token file"
    );
    let text = std::fs::read_to_string(found[0].path()).expect("readable");
    serde_json::from_str(&text).expect("JSON")
}

fn assert_exit(run: &CliRun, code: i32, what: &str) {
    assert_eq!(run.code(), code, "{what}: {run}");
}

async fn device_login_whoami_logout(package: &str) {
    let target = start(package).await;
    let base = target.app.base.clone();
    let cli = CliHome::new("device-login");
    let mut login = cli
        .spawn(&["device-login", "--app", &base, "--scope", "military"])
        .await;
    let complete = login.url_after(COMPLETE_URL_PREFIX).await;
    assert!(
        login.stderr_so_far().contains("enter the code "),
        "{}",
        login.stderr_so_far()
    );
    let person = Browser::new();
    let done = person_decides(&person, &base, complete.as_str(), "allow").await;
    assert_eq!(done.status, 200, "{}", done.body);
    let login = login.finish().await;
    assert_exit(&login, 0, "device-login");
    assert_eq!(login.stdout.trim(), format!("Signed in to {base}"));
    assert!(
        !cli.token_file().exists(),
        "the ID.me session's file is not the app's"
    );
    let stored = stored_tokens(&cli);
    let secret = |k: &str| stored[k].as_str().unwrap_or_default().to_owned();
    let (access, refresh) = (secret("access_token"), secret("refresh_token"));
    assert!(!access.is_empty() && !refresh.is_empty(), "tokens stored");

    let whoami = cli.run(&["whoami", "--app", &base]).await;
    assert_exit(&whoami, 0, "whoami --app");
    let me: serde_json::Value = serde_json::from_str(whoami.stdout.trim()).expect("JSON");
    assert_eq!(me["sub"], Persona::Veteran.sub(), "{me}");
    // The person's /me as the grant shows it: military was granted, the IAL2 level not.
    let mut granted = person.get(&target.url("/me")).await.json();
    if let Some(claims) = granted.get_mut("claims").and_then(|c| c.as_object_mut()) {
        for claim in ["credential_ial", "level_of_assurance", "acr"] {
            claims.remove(claim);
        }
    }
    assert_eq!(me, granted, "the person's /me, as granted");

    let logout = cli.run(&["logout", "--app", &base]).await;
    assert_exit(&logout, 0, "logout --app");
    let revoked = get_bearer(&target.url("/me"), &access).await;
    assert_eq!(revoked.status, 401, "revoked at the app: {}", revoked.body);
    let after = cli.run(&["whoami", "--app", &base]).await;
    assert_exit(&after, 1, "whoami --app after logout");
    assert!(after.stderr.contains("Not signed in to"), "{after}");
    assert_eq!(after.stdout, "");
    assert_no_secret_printed(
        &[
            ("device-login", &login),
            ("whoami", &whoami),
            ("logout", &logout),
            ("whoami after", &after),
        ],
        &[access, refresh],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_login_whoami_logout_axum() {
    device_login_whoami_logout("idme-example-axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_login_whoami_logout_actix() {
    device_login_whoami_logout("idme-example-actix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_login_whoami_logout_rocket() {
    device_login_whoami_logout("idme-example-rocket").await;
}

/// The person denies: `device-login` stops with exit 1 and a clear message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_device_login_exits_1() {
    let target = start("idme-example-axum").await;
    let base = target.app.base.clone();
    let cli = CliHome::new("device-denied");
    let mut login = cli.spawn(&["device-login", "--app", &base]).await;
    let complete = login.url_after(COMPLETE_URL_PREFIX).await;
    let person = Browser::new();
    let page = confirmation_page(&person, complete.as_str()).await;
    let form = decision_form(&page, "deny");
    let done = person
        .post_form(&format!("{base}/auth/device"), &form)
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let login = login.finish().await;
    assert_exit(&login, 1, "denied");
    assert!(login.stderr.contains("Sign-in denied"), "{login}");
    let whoami = cli.run(&["whoami", "--app", &base]).await;
    assert_exit(&whoami, 1, "nothing stored after a denial");
}
