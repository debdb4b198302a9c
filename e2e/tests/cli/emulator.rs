//! The command-line example with nothing configured: it signs in against its built-in
//! emulator, whose sign-in page the scripted browser (`BROWSER`) answers like a person
//! would, choosing a persona or cancelling.

use idme_e2e::cli::CliHome;
use idme_testkit::Persona;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_through_the_emulators_page_as_the_persona_chosen() {
    let mut cli = CliHome::new("emulator-page");
    cli.set("IDME_E2E_BROWSER_PERSONA", "student");
    let login = cli.run(&["login"]).await;
    assert_eq!(login.code(), 0, "{login}");
    let line = format!("Signed in as Sam ({})", Persona::Student.sub());
    assert!(
        login.stdout.lines().any(|l| l.trim() == line),
        "login prints {line:?}: {login}"
    );
    let report = cli.browser_report().await;
    assert_eq!(report["status"], 200, "{report}");

    let whoami = cli.run(&["whoami"]).await;
    assert_eq!(whoami.code(), 0, "{whoami}");
    let me: serde_json::Value = serde_json::from_str(whoami.stdout.trim())
        .unwrap_or_else(|e| panic!("whoami prints one JSON object ({e}): {whoami}"));
    assert_eq!(me["sub"], Persona::Student.sub(), "{me}");
    assert!(
        me["verification"].to_string().contains("student"),
        "the student's verification group: {me}"
    );
    let logout = cli.run(&["logout"]).await;
    assert_eq!(logout.code(), 0, "{logout}");
    assert_eq!(
        logout.stdout.lines().next().map(str::trim),
        Some("Signed out"),
        "{logout}"
    );
    let again = cli.run(&["whoami"]).await;
    assert_eq!(again.code(), 1, "logout forgets the tokens: {again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_on_the_emulators_page_exits_1_and_stores_nothing() {
    let mut cli = CliHome::new("emulator-cancel");
    cli.set("IDME_E2E_BROWSER_ACTION", "cancel");
    let login = cli.run(&["login"]).await;
    assert_eq!(login.code(), 1, "{login}");
    assert!(
        login.stderr.to_lowercase().contains("cancel"),
        "a clear message: {login}"
    );
    assert!(!login.stdout.contains("Signed in"), "{login}");
    assert!(!cli.token_file().exists(), "no token file: {login}");
    let report = cli.browser_report().await;
    let landed = url::Url::parse(report["url"].as_str().unwrap_or_default()).expect("a URL");
    assert!(
        landed
            .query_pairs()
            .any(|(k, v)| k == "error" && v == "access_denied"),
        "the emulator answered access_denied to the app's listener: {report}"
    );
}
