//! The offline emulator mode of the example apps (no `IDME_CLIENT_ID`): it refuses to start
//! beside any production setting, and every page it serves says it is the emulator. The
//! bootstrap is shared by the three examples, so one framework is started here; the
//! refusal logic itself is unit-tested in `idme-example-support`.

use idme_e2e::process::{ExampleApp, Target};

const PACKAGE: &str = "idme-example-axum";
/// What the emulator-mode banner says (`idme_example_support::EMULATOR_NOTICE`).
const NOTICE: &str = "Offline emulator";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_to_start_with_production_cookie_keys_and_no_client_id() {
    let keys = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned();
    let (status, output) = ExampleApp::run_to_exit(PACKAGE, &[("IDME_COOKIE_KEYS", keys)]).await;
    assert!(!status.success(), "started anyway; output:\n{output}");
    assert!(
        output.contains("IDME_COOKIE_KEYS"),
        "the refusal names the variable; output:\n{output}"
    );
    assert!(
        !output.contains("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
        "the refusal never prints the value; output:\n{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_emulator_mode_says_so() {
    let port = Target::free_port();
    let app = ExampleApp::start(PACKAGE, port, &[]).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let home = client.get(app.url("/")).send().await.expect("GET /");
    assert_eq!(home.status(), 200);
    let home = home.text().await.expect("body");
    assert!(home.contains(NOTICE), "home page: {home}");

    // An engine error page: a callback with no login in progress.
    let error = client
        .get(app.url("/auth/callback?code=x&state=y"))
        .send()
        .await
        .expect("GET /auth/callback");
    assert_eq!(error.status(), 400);
    let error = error.text().await.expect("body");
    assert!(error.contains("page-notice"), "error page: {error}");
    assert!(error.contains(NOTICE), "error page: {error}");

    // The emulator's own sign-in page.
    let login = client
        .get(app.url("/auth/login"))
        .send()
        .await
        .expect("GET /auth/login");
    let location = login.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let sign_in = client.get(&location).send().await.expect("sign-in page");
    let sign_in = sign_in.text().await.expect("body");
    assert!(sign_in.contains(NOTICE), "emulator sign-in page: {sign_in}");
    app.stop().await;
}

/// Offline, the emulator is also ID.me's security-event transmitter: its page for
/// developers sends "account disabled" for the persona that signed in, the app accepts it,
/// and that browser's session has ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_sends_security_events_offline() {
    use idme_testkit::browser::Browser;

    let port = Target::free_port();
    let app = ExampleApp::start(PACKAGE, port, &[("IDME_TESTKIT_USER", "veteran".into())]).await;
    let browser = Browser::new();
    let start = browser.get(&app.url("/auth/login?return_to=/me")).await;
    assert_eq!(start.status, 303, "{}", start.body);
    let emulator = start.location().expect("the emulator's sign-in");
    let me = browser.navigate(start, None).await;
    assert_eq!(me.status, 200, "{}: {}", me.url, me.body);

    let events_page = format!("{}/testkit/events", emulator.origin().ascii_serialization());
    let page = browser.get(&events_page).await;
    assert!(
        page.body.contains("veteran-account-disabled"),
        "{}",
        page.body
    );
    let form = [
        ("persona".to_owned(), "veteran".to_owned()),
        (
            "event".to_owned(),
            idme_testkit::risc::ACCOUNT_DISABLED.to_owned(),
        ),
    ];
    let sent = browser.post_form(&events_page, &form).await;
    assert!(
        sent.body.contains("the application accepted it"),
        "{}",
        sent.body
    );

    let api = Browser::api_client();
    for cookie in browser.cookies() {
        api.put_cookie(&cookie.name, &cookie.value, "/");
    }
    assert_eq!(
        api.get(&app.url("/me")).await.status,
        401,
        "the session has ended"
    );
    app.stop().await;
}
