//! The contract scenarios, each a function of the example package under test. Every
//! assertion is about what the browser sees: statuses, redirects, cookies, bodies.

use std::time::{Duration, Instant};

use idme_testkit::browser::{Browser, Page};
use idme_testkit::{Fault, Persona};

use crate::process::{ExampleApp, Target};

/// The session cookie's name on plain-http loopback.
pub const SESSION: &str = "idme_session";

/// Starts a login at `/auth/login?return_to=…` and lets the browser go all the way.
pub async fn sign_in(browser: &Browser, target: &Target, return_to: &str) -> Page {
    let start = browser
        .get(&target.url(&format!("/auth/login?return_to={return_to}")))
        .await;
    assert_eq!(
        start.status, 303,
        "login redirects to the provider: {}",
        start.body
    );
    browser.navigate(start, None).await
}

/// Starts a login and returns the provider's answer (a redirect to the callback, or a
/// form_post page), without delivering it.
pub async fn until_callback(browser: &Browser, target: &Target) -> Page {
    let start = browser.get(&target.url("/auth/login")).await;
    assert_eq!(start.status, 303, "{}", start.body);
    browser
        .get(start.location().expect("Location").as_str())
        .await
}

/// Asserts a sign-in failure page with `status` and no session.
pub fn assert_failed(page: &Page, browser: &Browser, status: u16, text: &str) {
    assert_eq!(page.status, status, "{}: {}", page.url, page.body);
    assert!(page.body.contains(text), "{text:?} not in: {}", page.body);
    assert!(
        page.set_cookie(SESSION).is_none(),
        "a failure sets no session"
    );
    assert!(
        browser.cookie(SESSION).is_none(),
        "no session after a failure"
    );
}

/// Every response type × mode: signs in, lands on `/me`, and the pending cookie is gone.
pub async fn signs_in(package: &str, response_type: &str, mode: &str) {
    let mut env = vec![
        ("IDME_RESPONSE_TYPE", response_type),
        ("IDME_RESPONSE_MODE", mode),
    ];
    // The bare OAuth `token` type asks for policies without `openid`.
    if response_type == "token" {
        env.push(("IDME_SCOPES", "military"));
    }
    let target = Target::start(package, &env).await;
    let browser = Browser::new();
    let page = sign_in(&browser, &target, "/me").await;
    assert_eq!(page.status, 200, "{response_type} × {mode}: {}", page.body);
    assert_eq!(page.url.path(), "/me");
    assert_eq!(page.json()["sub"], Persona::Veteran.sub(), "{}", page.body);
    assert!(browser.cookie(SESSION).is_some());
    assert!(
        browser
            .cookies()
            .iter()
            .all(|c| !c.name.starts_with("idme_login_")),
        "pending-login cookie deleted"
    );
    let stats = target.emulator.stats();
    // Code flows: the code exchange, then (userinfo spent the first single-use access
    // token) one refresh for attributes.json. Implicit flows: no token endpoint at all;
    // the OAuth `token` type reads attributes.json (and no userinfo) with its token.
    let code = response_type.split(' ').any(|w| w == "code");
    let oauth = response_type == "token";
    assert_eq!(
        stats.token,
        if code { 2 } else { 0 },
        "{response_type}: token calls"
    );
    assert_eq!(
        stats.attributes,
        u64::from(code || oauth),
        "{response_type}: attributes calls"
    );
    if oauth {
        assert_eq!(
            stats.userinfo, 0,
            "{response_type}: no userinfo without openid"
        );
        assert!(page.json()["verification"].is_object(), "{}", page.body);
    }
}

/// With no `IDME_CLIENT_ID` the example starts its own emulator and still signs in.
pub async fn offline_mode_signs_in_with_nothing_configured(package: &str) {
    let port = Target::free_port();
    let app = ExampleApp::start(package, port, &[("IDME_TESTKIT_USER", "student".into())]).await;
    assert!(
        app.output().contains("emulator"),
        "says it runs against the emulator: {}",
        app.output()
    );
    let browser = Browser::new();
    let start = browser.get(&app.url("/auth/login?return_to=/me")).await;
    assert_eq!(start.status, 303);
    let page = browser.navigate(start, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.json()["sub"], Persona::Student.sub());
    let home = browser.get(&app.url("/")).await;
    assert!(home.body.contains("Sign out"), "{}", home.body);
    app.stop().await;
}

/// `GET /` is public, with a sign-in link.
pub async fn home_page_is_public(package: &str) {
    let target = Target::start(package, &[]).await;
    let page = Browser::new().get(&target.url("/")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/auth/login"), "{}", page.body);
}

/// `/me` without a session: 303 to login for browsers, 401 JSON for API clients.
pub async fn me_requires_a_session(package: &str) {
    let target = Target::start(package, &[]).await;
    let page = Browser::new().get(&target.url("/me")).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.headers["location"].to_str().unwrap(),
        "/auth/login?return_to=%2Fme"
    );
    let page = Browser::api_client().get(&target.url("/me")).await;
    assert_eq!(page.status, 401, "{}", page.body);
    assert_eq!(page.json()["error"], "unauthenticated", "{}", page.body);
    // A forged session cookie is no session either, and is cleared.
    let api = Browser::api_client();
    api.put_cookie(SESSION, "forged-value", "/");
    let page = api.get(&target.url("/me")).await;
    assert_eq!(page.status, 401);
    assert!(
        page.set_cookie(SESSION)
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
}

/// `POST /auth/logout` clears the session and visits the provider's logout.
pub async fn logout_ends_the_session(package: &str) {
    let target = Target::start(package, &[]).await;
    let browser = Browser::new();
    assert_eq!(sign_in(&browser, &target, "/me").await.status, 200);
    let page = browser.post_form(&target.url("/auth/logout"), &[]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let to = page.location().unwrap();
    assert!(to.as_str().starts_with(&target.emulator.base_url()), "{to}");
    assert!(
        page.set_cookie(SESSION)
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    let back = browser.navigate(page, None).await;
    assert_eq!(back.url.as_str(), target.url("/"));
    assert_eq!(target.emulator.stats().logout, 1);
    let page = browser.get(&target.url("/me")).await;
    assert_eq!(page.status, 303, "signed out: /me sends to login again");
}

/// `return_to` is kept when it is a local path and replaced by `/` otherwise.
pub async fn return_to_is_kept_when_local_and_dropped_otherwise(package: &str) {
    let target = Target::start(package, &[]).await;
    for (asked, expected) in [
        ("/me?x=1", "/me?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
    ] {
        let browser = Browser::new();
        let encoded: String = url::form_urlencoded::byte_serialize(asked.as_bytes()).collect();
        let start = browser
            .get(&target.url(&format!("/auth/login?return_to={encoded}")))
            .await;
        let authorize = browser.get(start.location().unwrap().as_str()).await;
        let done = browser.get(authorize.location().unwrap().as_str()).await;
        assert_eq!(done.status, 303, "{asked}: {}", done.body);
        assert_eq!(
            done.headers["location"].to_str().unwrap(),
            expected,
            "{asked}"
        );
    }
}

/// The user cancels at ID.me: a friendly page, no redirect, no session.
pub async fn access_denied_is_a_friendly_page(package: &str) {
    let target = Target::start(package, &[]).await;
    let browser = Browser::new();
    let to_cb = until_callback(&browser, &target).await.location().unwrap();
    let state = to_cb
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let page = browser
        .get(&target.url(&format!("/auth/callback?error=access_denied&state={state}")))
        .await;
    assert_failed(&page, &browser, 403, "cancelled");
}

/// The pending-login cookie is gone (another browser, cleared cookies): "start again".
pub async fn missing_pending_cookie_asks_to_start_again(package: &str) {
    let target = Target::start(package, &[]).await;
    let browser = Browser::new();
    let to_cb = until_callback(&browser, &target).await.location().unwrap();
    browser.remove_cookies("idme_login_");
    let page = browser.get(to_cb.as_str()).await;
    assert_failed(&page, &browser, 400, "start again");
    assert_eq!(target.emulator.stats().token, 0);
}

/// No state, or another state: refused before any code exchange.
pub async fn state_missing_or_altered_is_refused(package: &str) {
    let target = Target::start(package, &[]).await;
    for alter in [true, false] {
        let browser = Browser::new();
        let mut cb = until_callback(&browser, &target).await.location().unwrap();
        let pairs: Vec<(String, String)> = cb
            .query_pairs()
            .into_owned()
            .filter_map(|(k, v)| match (k.as_str(), alter) {
                ("state", true) => Some((k, format!("{v}x"))),
                ("state", false) => None,
                _ => Some((k, v)),
            })
            .collect();
        cb.query_pairs_mut().clear().extend_pairs(pairs);
        let page = browser.get(cb.as_str()).await;
        assert_failed(&page, &browser, 400, "not valid");
    }
    assert_eq!(target.emulator.stats().token, 0);
}

/// A callback replayed with its pending cookie is refused; the code is not spent again.
pub async fn replayed_callback_is_refused(package: &str) {
    let target = Target::start(package, &[]).await;
    let browser = Browser::new();
    let cb = until_callback(&browser, &target).await.location().unwrap();
    let pending = browser
        .cookies()
        .into_iter()
        .find(|c| c.name.starts_with("idme_login_"))
        .unwrap();
    let done = browser.navigate(browser.get(cb.as_str()).await, None).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let attacker = Browser::new();
    attacker.put_cookie(&pending.name, &pending.value, &pending.path);
    let tokens = target.emulator.stats().token;
    let page = attacker.get(cb.as_str()).await;
    assert_failed(&page, &attacker, 400, "already used");
    assert_eq!(
        target.emulator.stats().token,
        tokens,
        "the code is not spent again"
    );
}

/// A code from another login, injected into this one, fails PKCE at the token endpoint.
pub async fn injected_code_fails_pkce(package: &str) {
    let target = Target::start(package, &[]).await;
    let attacker = Browser::new();
    let stolen = until_callback(&attacker, &target).await.location().unwrap();
    let code = stolen
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let victim = Browser::new();
    let mut cb = until_callback(&victim, &target).await.location().unwrap();
    let pairs: Vec<(String, String)> = cb
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "code" {
                (k, code.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    cb.query_pairs_mut().clear().extend_pairs(pairs);
    let page = victim.get(cb.as_str()).await;
    assert_failed(&page, &victim, 400, "could not complete");
}

/// Each protocol check, through the example: the provider misbehaves, the browser gets a
/// 400 page and no session.
pub async fn provider_misbehaviour_is_refused(package: &str) {
    let hybrid = Target::start(package, &[("IDME_RESPONSE_TYPE", "code id_token token")]).await;
    for fault in [
        Fault::BadSignature,
        Fault::AlgNone,
        Fault::WrongIssuer,
        Fault::WrongAudience,
        Fault::Expired,
        Fault::IatInFuture,
        Fault::WrongNonce,
        Fault::OmitNonce,
        Fault::WrongCHash,
        Fault::OmitCHash,
        Fault::WrongAtHash,
        Fault::OmitAtHash,
        Fault::UserinfoWrongSub,
        Fault::TokenSubMismatch,
        Fault::WrongIssParameter,
    ] {
        hybrid.emulator.set_faults([fault.clone()]);
        let browser = Browser::new();
        let page = sign_in(&browser, &hybrid, "/me").await;
        assert_eq!(page.status, 400, "{fault:?}: {}", page.body);
        assert!(
            page.body.contains("could not be verified"),
            "{fault:?}: {}",
            page.body
        );
        assert!(browser.cookie(SESSION).is_none(), "{fault:?}: no session");
    }
}

/// Token endpoint errors (JSON or not) and a hung token endpoint: typed pages, quickly.
pub async fn token_endpoint_errors_and_timeouts(package: &str) {
    let target = Target::start(package, &[("IDME_HTTP_TIMEOUT", "1")]).await;
    for (status, body, expect_status, text) in [
        (
            400,
            r#"{"error":"invalid_grant"}"#,
            400,
            "could not complete",
        ),
        (
            401,
            r#"{"error":"invalid_client"}"#,
            502,
            "not configured correctly",
        ),
        (503, "<html>down</html>", 502, "cannot be reached"),
    ] {
        target.emulator.set_faults([Fault::TokenError {
            status,
            body: body.into(),
        }]);
        let browser = Browser::new();
        let page = sign_in(&browser, &target, "/me").await;
        assert_failed(&page, &browser, expect_status, text);
    }
    target
        .emulator
        .set_faults([Fault::SlowToken(Duration::from_secs(30))]);
    let browser = Browser::new();
    let started = Instant::now();
    let page = sign_in(&browser, &target, "/me").await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_failed(&page, &browser, 504, "took too long");
}

/// The provider rotates its keys: sign-in keeps working with exactly one JWKS refetch.
pub async fn key_rotation_costs_one_jwks_fetch(package: &str) {
    let target = Target::start(package, &[]).await;
    let browser = Browser::new();
    assert_eq!(sign_in(&browser, &target, "/me").await.status, 200);
    let before = target.emulator.stats().jwks;
    target.emulator.rotate_keys();
    let browser = Browser::new();
    let page = sign_in(&browser, &target, "/me").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(target.emulator.stats().jwks, before + 1);
}

/// `IDME_TOKEN_AUTH=client_secret_post`.
pub async fn client_secret_post_works(package: &str) {
    let target = Target::start(package, &[("IDME_TOKEN_AUTH", "client_secret_post")]).await;
    let browser = Browser::new();
    let page = sign_in(&browser, &target, "/me").await;
    assert_eq!(page.status, 200, "{}", page.body);
}

/// `/verified/military` and `/verified/veteran` for each persona: 200 or 403 (with an
/// offer to verify), and the usual 303/401 without a session.
pub async fn verification_guards(package: &str) {
    let target = Target::start(package, &[]).await;
    assert_eq!(
        Browser::api_client()
            .get(&target.url("/verified/military"))
            .await
            .status,
        401
    );
    for (persona, military, veteran) in [
        (Persona::Veteran, 200, 200),
        (Persona::MilitarySpouse, 200, 403),
        (Persona::Student, 403, 403),
        (Persona::Unverified, 403, 403),
    ] {
        target.emulator.set_auto_user(Some(persona));
        let browser = Browser::new();
        assert_eq!(sign_in(&browser, &target, "/me").await.status, 200);
        let page = browser.get(&target.url("/verified/military")).await;
        assert_eq!(page.status, military, "{persona} military: {}", page.body);
        if military == 200 {
            assert_eq!(page.json()["sub"], persona.sub(), "{}", page.body);
            assert_eq!(page.json()["group"], "military", "{}", page.body);
        }
        let page = browser.get(&target.url("/verified/veteran")).await;
        assert_eq!(page.status, veteran, "{persona} veteran: {}", page.body);
        if veteran == 403 {
            assert!(
                page.body.contains("Verify your military status with ID.me"),
                "{}",
                page.body
            );
            let api = Browser::api_client();
            api.put_cookie(SESSION, &browser.cookie(SESSION).unwrap(), "/");
            let page = api.get(&target.url("/verified/veteran")).await;
            assert_eq!(page.status, 403);
            assert_eq!(
                page.json()["error"],
                "verification_required",
                "{}",
                page.body
            );
        }
    }
}

/// Offline mode with `IDME_TESTKIT_USER=veteran`: the verified pages work out of the box.
pub async fn offline_veteran_passes_both_guards(package: &str) {
    let port = Target::free_port();
    let app = ExampleApp::start(package, port, &[("IDME_TESTKIT_USER", "veteran".into())]).await;
    let browser = Browser::new();
    let start = browser
        .get(&app.url("/auth/login?return_to=/verified/veteran"))
        .await;
    let page = browser.navigate(start, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.json()["sub"], Persona::Veteran.sub());
    assert_eq!(
        browser.get(&app.url("/verified/military")).await.status,
        200
    );
    app.stop().await;
}
