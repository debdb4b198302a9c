//! The interop suite: each example app, as a real process, signs in against an independent
//! OpenID provider (Node's `oidc-provider`, see [`crate::oidc_provider`]) through every
//! response type and mode, with both client authentication methods, and signs out through
//! the provider's end-session endpoint. Generated per example by `interop_tests!`.

use idme_testkit::browser::{Browser, Page};

use crate::oidc_provider::{
    OidcProvider, OidcProviderConfig, SUB, cancel_on_provider, sign_in_through_provider,
    sign_out_through_provider, until_provider_login,
};
use crate::process::{ExampleApp, Target};
use crate::scenarios::SESSION;

/// Generates the interop suite for one example package.
#[macro_export]
macro_rules! interop_tests {
    ($package:literal) => {
        $crate::__flow_tests!(interop, $package);
        $crate::__scenario_tests!(interop, $package;
            client_secret_post_works,
            logout_goes_through_the_providers_end_session,
            cancel_at_the_provider_is_a_friendly_page,
            cancel_at_the_provider_is_a_friendly_page_in_fragment_mode,
            stock_oidc_provider_omits_iss_beside_an_id_token,
        );
    };
}

/// An example app configured for an oidc-provider started for it.
#[derive(Debug)]
pub struct Interop {
    /// The provider.
    pub provider: OidcProvider,
    /// The app.
    pub app: ExampleApp,
}

impl Interop {
    /// Starts a provider whose client is registered for the app's port (with `tweak`
    /// applied), then the app with `IDME_ISSUER`, `IDME_CLIENT_ID`, `IDME_CLIENT_SECRET`,
    /// `IDME_REDIRECT_URI` pointing at it, plus `env`.
    pub async fn start(
        package: &str,
        tweak: impl FnOnce(&mut OidcProviderConfig),
        env: &[(&str, &str)],
    ) -> Interop {
        let port = Target::free_port();
        let mut config = OidcProviderConfig::for_app_port(port);
        tweak(&mut config);
        let mut provider = OidcProvider::start(config.clone()).await;
        // The provider binds any free port: in the rare case it took the one chosen for the
        // app (free again once probed), start it once more.
        if provider.port() == port {
            provider.stop().await;
            provider = OidcProvider::start(config).await;
            assert_ne!(
                provider.port(),
                port,
                "the provider took the app's port twice"
            );
        }
        let mut app_env = vec![
            ("IDME_ISSUER", provider.issuer().to_owned()),
            ("IDME_CLIENT_ID", provider.client_id().to_owned()),
            ("IDME_CLIENT_SECRET", provider.client_secret().to_owned()),
            (
                "IDME_REDIRECT_URI",
                provider.config().redirect_uris[0].clone(),
            ),
        ];
        app_env.extend(env.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let app = ExampleApp::start(package, port, &app_env).await;
        Interop { provider, app }
    }

    /// `app` + `path`.
    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    /// The tail of both logs, for failure messages.
    pub fn logs(&self) -> String {
        fn tail(s: &str) -> String {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        }
        format!(
            "--- app log ({}) ---\n{}\n--- oidc-provider log ---\n{}",
            self.app.log.display(),
            tail(&self.app.output()),
            tail(&self.provider.output())
        )
    }

    /// `GET /auth/login?return_to=…` and asserts the app's 303 to the provider.
    pub async fn start_login(&self, browser: &Browser, return_to: &str) -> Page {
        let start = browser
            .get(&self.url(&format!("/auth/login?return_to={return_to}")))
            .await;
        assert_eq!(start.status, 303, "login redirects: {}", start.body);
        let to = start.location().expect("Location");
        assert!(
            to.as_str()
                .starts_with(&format!("{}/auth?", self.provider.issuer())),
            "to the provider's authorization endpoint: {to}"
        );
        start
    }

    /// Asserts `page` is `/me` signed in as [`SUB`], with the pending-login cookie gone.
    pub fn assert_signed_in(&self, page: &Page, browser: &Browser, what: &str) {
        assert_eq!(
            (page.status, page.url.path()),
            (200, "/me"),
            "{what}: {} {}: {}\n{}",
            page.status,
            page.url,
            page.body,
            self.logs()
        );
        assert_eq!(page.json()["sub"], SUB, "{what}: {}", page.body);
        assert!(browser.cookie(SESSION).is_some(), "{what}: a session");
        assert!(
            browser
                .cookies()
                .iter()
                .all(|c| !c.name.starts_with("idme_login_")),
            "{what}: pending-login cookie deleted"
        );
    }
}

fn count(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// Every response type × mode against oidc-provider: signs in through its login and consent
/// pages, lands on `/me` with the provider's `sub`; the provider saw exactly this flow, one
/// token grant for code flows (client_secret_basic, with a refresh token issued), one
/// userinfo call when an access token was issued, and reported no error.
pub async fn signs_in(package: &str, response_type: &str, mode: &str) {
    let it = Interop::start(
        package,
        |_| {},
        &[
            ("IDME_RESPONSE_TYPE", response_type),
            ("IDME_RESPONSE_MODE", mode),
        ],
    )
    .await;
    let what = format!("{response_type} × {mode}");
    let browser = Browser::new();
    let start = it.start_login(&browser, "/me").await;
    let page = sign_in_through_provider(&browser, start).await;
    it.assert_signed_in(&page, &browser, &what);

    let stats = it.provider.stats().await;
    let mut words: Vec<&str> = response_type.split(' ').collect();
    words.sort_unstable();
    let flow = format!("{} {mode}", words.join(" "));
    assert_eq!(
        count(&stats["authorizations_by_flow"][&flow]),
        1,
        "{what}: the provider answered this flow once: {stats}"
    );
    let code = words.contains(&"code");
    let access_token = code || words.contains(&"token");
    assert_eq!(
        count(&stats["token_grants"]),
        u64::from(code),
        "{what}: token grants: {stats}"
    );
    assert_eq!(
        count(&stats["token_auth_methods"]["client_secret_basic"]),
        u64::from(code),
        "{what}: client_secret_basic by default: {stats}"
    );
    assert_eq!(
        count(&stats["refresh_tokens_issued"]),
        u64::from(code),
        "{what}: a refresh token with every code grant: {stats}"
    );
    assert_eq!(
        count(&stats["userinfo"]),
        u64::from(access_token),
        "{what}: userinfo calls: {stats}"
    );
    assert_eq!(
        stats["errors"],
        serde_json::json!([]),
        "{what}: provider errors"
    );
    // RFC 9207: stock oidc-provider sends `iss` whenever no `id_token` is in the response
    // (the engine then checks it); beside an ID token it relies on the token's `iss`.
    let last = it.provider.last_response().await;
    let has_iss = last["parameters"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p == "iss"));
    assert_eq!(has_iss, !words.contains(&"id_token"), "{what}: {last}");
    assert_eq!(
        last["iss_added_by_harness"], false,
        "{what}: stock provider: {last}"
    );
}

/// Stock oidc-provider (8.x and 9.x) advertises
/// `authorization_response_iss_parameter_supported: true` but leaves `iss` out of
/// authorization responses that carry an `id_token`, relying on the ID token's `iss`
/// (RFC 9700 §4.4.2.1). The engine accepts that — the token's signature and `iss` are
/// verified before any code is redeemed — so the hybrid flow signs in.
pub async fn stock_oidc_provider_omits_iss_beside_an_id_token(package: &str) {
    let it = Interop::start(
        package,
        |c| c.iss_beside_id_token = false,
        &[
            ("IDME_RESPONSE_TYPE", "code id_token"),
            ("IDME_RESPONSE_MODE", "fragment"),
        ],
    )
    .await;
    let browser = Browser::new();
    let start = it.start_login(&browser, "/me").await;
    let page = sign_in_through_provider(&browser, start).await;
    let last = it.provider.last_response().await;
    assert_eq!(
        last["parameters"],
        serde_json::json!(["code", "id_token", "state"]),
        "stock oidc-provider sends no iss beside an id_token: {last}"
    );
    assert_eq!(
        (page.status, page.url.path()),
        (200, "/me"),
        "signed in on the ID token's verified iss: {}\n{}",
        page.body,
        it.logs()
    );
    assert!(browser.cookie(SESSION).is_some(), "a session");
}

/// `IDME_TOKEN_AUTH=client_secret_post` against a client registered for it (oidc-provider
/// accepts only the registered method).
pub async fn client_secret_post_works(package: &str) {
    let it = Interop::start(
        package,
        |c| c.token_endpoint_auth_method = "client_secret_post".into(),
        &[("IDME_TOKEN_AUTH", "client_secret_post")],
    )
    .await;
    let browser = Browser::new();
    let start = it.start_login(&browser, "/me").await;
    let page = sign_in_through_provider(&browser, start).await;
    it.assert_signed_in(&page, &browser, "client_secret_post");
    let stats = it.provider.stats().await;
    assert_eq!(
        stats["token_auth_methods"],
        serde_json::json!({ "client_secret_post": 1 }),
        "{stats}"
    );
}

/// `POST /auth/logout` clears the session and sends the browser to the provider's
/// `end_session_endpoint` (with `client_id` and the registered `post_logout_redirect_uri`);
/// after its confirmation page the provider returns to the app's `/`. `/me` has no session
/// any more, and the provider's own session is gone too: the next login asks to sign in.
pub async fn logout_goes_through_the_providers_end_session(package: &str) {
    let it = Interop::start(package, |_| {}, &[]).await;
    let browser = Browser::new();
    let start = it.start_login(&browser, "/me").await;
    let page = sign_in_through_provider(&browser, start).await;
    it.assert_signed_in(&page, &browser, "before logout");

    let page = browser.post_form(&it.url("/auth/logout"), &[]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let to = page.location().expect("Location");
    assert!(
        to.as_str()
            .starts_with(&format!("{}/session/end?", it.provider.issuer())),
        "to the provider's end_session_endpoint: {to}"
    );
    let query: Vec<(String, String)> = to.query_pairs().into_owned().collect();
    assert!(
        query.contains(&("client_id".into(), it.provider.client_id().into())),
        "{to}"
    );
    assert!(
        query.contains(&("post_logout_redirect_uri".into(), it.url("/"))),
        "{to}"
    );
    assert!(
        page.set_cookie(SESSION)
            .is_some_and(|c| c.contains("Max-Age=0")),
        "session cookie cleared: {:?}",
        page.set_cookies()
    );

    let back = sign_out_through_provider(&browser, page).await;
    assert_eq!(
        (back.status, back.url.as_str()),
        (200, it.url("/").as_str()),
        "back on the app's home page: {}\n{}",
        back.body,
        it.logs()
    );
    assert_eq!(count(&it.provider.stats().await["end_sessions"]), 1);

    let me = browser.get(&it.url("/me")).await;
    assert_eq!(me.status, 303, "signed out: /me sends to login again");
    // The provider forgot the user as well: signing in again shows its login page.
    let start = it.start_login(&browser, "/me").await;
    until_provider_login(&browser, start).await;
}

/// "Cancel" on the provider's login page: the provider answers `error=access_denied` (with
/// `state` and `iss`), and the app shows its friendly "cancelled" page, with no session.
pub async fn cancel_at_the_provider_is_a_friendly_page(package: &str) {
    cancel_in(package, "code", "query").await;
}

/// The same cancellation delivered in the fragment of an implicit flow.
pub async fn cancel_at_the_provider_is_a_friendly_page_in_fragment_mode(package: &str) {
    cancel_in(package, "id_token", "fragment").await;
}

async fn cancel_in(package: &str, response_type: &str, mode: &str) {
    let it = Interop::start(
        package,
        |_| {},
        &[
            ("IDME_RESPONSE_TYPE", response_type),
            ("IDME_RESPONSE_MODE", mode),
        ],
    )
    .await;
    let browser = Browser::new();
    let start = it.start_login(&browser, "/me").await;
    let login = until_provider_login(&browser, start).await;
    let page = cancel_on_provider(&browser, &login).await;
    assert_eq!(
        page.status,
        403,
        "{response_type} × {mode}: {} {}\n{}",
        page.url,
        page.body,
        it.logs()
    );
    assert!(page.body.contains("cancelled"), "{}", page.body);
    assert!(page.set_cookie(SESSION).is_none(), "no session");
    assert!(browser.cookie(SESSION).is_none(), "no session");
    let stats = it.provider.stats().await;
    assert!(
        stats["errors"].as_array().is_some_and(|e| e
            .iter()
            .any(|e| e.as_str().is_some_and(|e| e.contains("access_denied")))),
        "the provider answered access_denied: {stats}"
    );
}
