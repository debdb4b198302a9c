//! One negative test per rule, each against a real emulator told to misbehave, over
//! loopback. Every failure must be a 4xx/5xx page with a safe message and no session.

mod common;

use std::time::{Duration, Instant};

use common::{Rig, SESSION, assert_failed};
use idme_core::{ResponseMode, ResponseType};
use idme_testkit::browser::Browser;
use idme_testkit::{EmulatorConfig, Fault, Persona};

const NOT_VERIFIED: &str = "could not be verified";

/// Signs in with `fault` set on the emulator, expecting failure with `status` and `text`.
async fn fails_with(rt: ResponseType, fault: Fault, status: u16, text: &str) -> Rig {
    let rig = Rig::with(|b| b.response_type(rt)).await;
    rig.emulator.set_faults([fault.clone()]);
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_failed(&page, &browser, status, text);
    assert!(
        page.set_cookie("idme_login_*")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "{fault:?}: the pending-login cookie is deleted on failure"
    );
    rig
}

#[tokio::test]
async fn bad_signature_is_refused() {
    fails_with(ResponseType::Code, Fault::BadSignature, 400, NOT_VERIFIED).await;
    fails_with(
        ResponseType::IdToken,
        Fault::BadSignature,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn alg_none_is_refused() {
    fails_with(ResponseType::Code, Fault::AlgNone, 400, NOT_VERIFIED).await;
    fails_with(ResponseType::IdToken, Fault::AlgNone, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    fails_with(ResponseType::Code, Fault::WrongIssuer, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    fails_with(
        ResponseType::CodeIdToken,
        Fault::WrongAudience,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn expired_id_token_is_refused() {
    fails_with(ResponseType::Code, Fault::Expired, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn id_token_issued_in_the_future_is_refused() {
    fails_with(ResponseType::IdToken, Fault::IatInFuture, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn nonce_missing_or_wrong_is_refused() {
    fails_with(ResponseType::Code, Fault::OmitNonce, 400, NOT_VERIFIED).await;
    fails_with(ResponseType::Code, Fault::WrongNonce, 400, NOT_VERIFIED).await;
    fails_with(
        ResponseType::IdTokenToken,
        Fault::WrongNonce,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn c_hash_missing_or_wrong_is_refused() {
    for rt in [ResponseType::CodeIdToken, ResponseType::CodeIdTokenToken] {
        fails_with(rt, Fault::OmitCHash, 400, NOT_VERIFIED).await;
        fails_with(rt, Fault::WrongCHash, 400, NOT_VERIFIED).await;
    }
}

#[tokio::test]
async fn at_hash_missing_or_wrong_is_refused() {
    for rt in [ResponseType::IdTokenToken, ResponseType::CodeIdTokenToken] {
        fails_with(rt, Fault::OmitAtHash, 400, NOT_VERIFIED).await;
        fails_with(rt, Fault::WrongAtHash, 400, NOT_VERIFIED).await;
    }
    // Optional at_hash (code flow, token endpoint) is still checked when present.
    fails_with(ResponseType::Code, Fault::WrongAtHash, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn token_endpoint_sub_must_match_front_channel() {
    // Without userinfo, so that only the ID token comparison can catch it.
    let rig = Rig::with(|b| {
        b.response_type(ResponseType::CodeIdToken)
            .fetch_userinfo(false)
    })
    .await;
    rig.emulator.set_faults([Fault::TokenSubMismatch]);
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_failed(&page, &browser, 400, NOT_VERIFIED);
}

#[tokio::test]
async fn userinfo_sub_mismatch_is_refused() {
    fails_with(
        ResponseType::Code,
        Fault::UserinfoWrongSub,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn rfc9207_iss_on_the_callback_is_checked() {
    fails_with(
        ResponseType::Code,
        Fault::WrongIssParameter,
        400,
        NOT_VERIFIED,
    )
    .await;
    // Advertised in discovery but missing: refused.
    fails_with(
        ResponseType::Code,
        Fault::OmitIssParameter,
        400,
        NOT_VERIFIED,
    )
    .await;
    fails_with(
        ResponseType::CodeToken,
        Fault::OmitIssParameter,
        400,
        NOT_VERIFIED,
    )
    .await;
    // A wrong `iss` is refused even beside an ID token.
    fails_with(
        ResponseType::CodeIdToken,
        Fault::WrongIssParameter,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn missing_iss_beside_a_verified_id_token_is_accepted() {
    // RFC 9700 §4.4.2.1: the ID token's signed `iss` identifies the issuer.
    let rig = Rig::with(|b| b.response_type(ResponseType::CodeIdToken)).await;
    rig.emulator.set_faults([Fault::OmitIssParameter]);
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // …but the ID token's issuer is still checked: a wrong one fails.
    let rig = Rig::with(|b| b.response_type(ResponseType::CodeIdToken)).await;
    rig.emulator
        .set_faults([Fault::OmitIssParameter, Fault::WrongIssuer]);
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_failed(&page, &browser, 400, NOT_VERIFIED);
    assert_eq!(rig.emulator.stats().token, 0, "no code redeemed");
}

#[tokio::test]
async fn missing_iss_is_fine_when_not_advertised() {
    let rig = Rig::with_emulator(
        EmulatorConfig {
            advertise_iss_parameter: false,
            ..EmulatorConfig::default()
        },
        |b| b,
    )
    .await;
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_eq!(page.status, 200, "{}", page.body);
}

#[tokio::test]
async fn token_endpoint_errors_are_typed() {
    // A JSON OAuth error.
    fails_with(
        ResponseType::Code,
        Fault::TokenError {
            status: 400,
            body: r#"{"error":"invalid_grant","error_description":"<b>nope</b>"}"#.into(),
        },
        400,
        "could not complete the sign-in",
    )
    .await;
    // A client misconfiguration is the site's fault: 502 and a message saying so.
    fails_with(
        ResponseType::Code,
        Fault::TokenError {
            status: 401,
            body: r#"{"error":"invalid_client"}"#.into(),
        },
        502,
        "not configured correctly",
    )
    .await;
    // Not JSON at all.
    let rig = fails_with(
        ResponseType::Code,
        Fault::TokenError {
            status: 500,
            body: "<html>upstream exploded</html>".into(),
        },
        502,
        "cannot be reached",
    )
    .await;
    let _ = rig;
}

#[tokio::test]
async fn provider_error_text_never_reaches_the_page() {
    let rig = Rig::new().await;
    rig.emulator.set_faults([Fault::TokenError {
        status: 400,
        body: r#"{"error":"invalid_grant","error_description":"<script>alert(1)</script>"}"#.into(),
    }]);
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("invalid_grant"), "{}", page.body);
}

#[tokio::test]
async fn a_hung_token_endpoint_times_out() {
    let rig = Rig::with(|b| b.http_timeout(Duration::from_millis(800))).await;
    rig.emulator
        .set_faults([Fault::SlowToken(Duration::from_secs(20))]);
    let browser = Browser::new();
    let started = Instant::now();
    let page = rig.sign_in(&browser, "/me").await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_failed(&page, &browser, 504, "took too long");
}

#[tokio::test]
async fn state_missing_is_refused() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let to_callback = rig.until_callback(&browser).await;
    let mut url = to_callback.location().unwrap();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != "state")
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept);
    let page = browser.get(url.as_str()).await;
    assert_failed(&page, &browser, 400, "not valid");
    assert_eq!(rig.emulator.stats().token, 0, "no code exchange");
}

#[tokio::test]
async fn state_altered_is_refused() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let to_callback = rig.until_callback(&browser).await;
    let url = to_callback.location().unwrap();
    let altered = url.as_str().replace("state=", "state=x");
    let page = browser.get(&altered).await;
    assert_failed(&page, &browser, 400, "not valid");
    assert_eq!(rig.emulator.stats().token, 0, "no code exchange");
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let to_callback = rig.until_callback(&browser).await;
    let callback = to_callback.location().unwrap();
    let pending: Vec<_> = browser
        .cookies()
        .into_iter()
        .filter(|c| c.name.starts_with("idme_login_"))
        .collect();
    assert_eq!(pending.len(), 1);
    let done = browser
        .navigate(browser.get(callback.as_str()).await, None)
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let tokens_before = rig.emulator.stats().token;

    // An attacker (or a back button) replays the callback with the same pending cookie.
    let attacker = Browser::new();
    attacker.put_cookie(&pending[0].name, &pending[0].value, &pending[0].path);
    let page = attacker.get(callback.as_str()).await;
    assert_failed(&page, &attacker, 400, "already used");
    assert_eq!(
        rig.emulator.stats().token,
        tokens_before,
        "the code is not spent again"
    );
}

#[tokio::test]
async fn missing_pending_cookie_asks_to_start_again() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let to_callback = rig.until_callback(&browser).await;
    browser.remove_cookies("idme_login_");
    let page = browser.get(to_callback.location().unwrap().as_str()).await;
    assert_failed(&page, &browser, 400, "Please start again");
    assert!(
        page.body.contains("href=\"/auth/login\""),
        "offers to start again"
    );
}

#[tokio::test]
async fn tampered_pending_cookie_is_refused() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let to_callback = rig.until_callback(&browser).await;
    let c = browser
        .cookies()
        .into_iter()
        .find(|c| c.name.starts_with("idme_login_"))
        .unwrap();
    let mut v = c.value.clone().into_bytes();
    let mid = v.len() / 2;
    v[mid] = if v[mid] == b'A' { b'B' } else { b'A' };
    browser.put_cookie(&c.name, std::str::from_utf8(&v).unwrap(), &c.path);
    let page = browser.get(to_callback.location().unwrap().as_str()).await;
    assert_failed(&page, &browser, 400, "Please start again");
}

#[tokio::test]
async fn an_injected_code_fails_pkce() {
    // The attacker obtains a code for their own login, then injects it into the victim's
    // callback with the victim's state: the victim's PKCE verifier does not fit.
    let rig = Rig::new().await;
    let attacker = Browser::new();
    let attacker_cb = rig.until_callback(&attacker).await.location().unwrap();
    let code = attacker_cb
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();

    let victim = Browser::new();
    let mut victim_cb = rig.until_callback(&victim).await.location().unwrap();
    let kept: Vec<(String, String)> = victim_cb
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
    victim_cb.query_pairs_mut().clear().extend_pairs(kept);
    let page = victim.get(victim_cb.as_str()).await;
    assert_failed(&page, &victim, 400, "could not complete the sign-in");
}

#[tokio::test]
async fn response_mode_is_enforced() {
    // A form_post login must not accept a code delivered in a query string.
    let rig = Rig::with(|b| b.response_mode(ResponseMode::FormPost)).await;
    let browser = Browser::new();
    let form_page = rig.until_callback(&browser).await;
    let fields = idme_testkit::browser::form_fields(&form_page.body);
    let mut url = url::Url::parse(&rig.url("/auth/callback")).unwrap();
    url.query_pairs_mut().extend_pairs(&fields);
    let page = browser.get(url.as_str()).await;
    assert_failed(&page, &browser, 400, "not valid");
}

#[tokio::test]
async fn return_to_cannot_redirect_off_site() {
    let rig = Rig::new().await;
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "%2F%2Fevil.example",
        "javascript:alert(1)",
    ] {
        let browser = Browser::new();
        let start = browser
            .get(&rig.url(&format!(
                "/auth/login?return_to={}",
                url::form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>()
            )))
            .await;
        let authorize = browser.get(start.location().unwrap().as_str()).await;
        let page = browser.get(authorize.location().unwrap().as_str()).await;
        assert_eq!(page.status, 303, "{evil}: {}", page.body);
        assert_eq!(
            page.headers["location"].to_str().unwrap(),
            "/",
            "{evil} falls back to /"
        );
    }
}

#[tokio::test]
async fn state_is_never_the_return_path() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let start = browser
        .get(&rig.url("/auth/login?return_to=/account"))
        .await;
    let url = start.location().unwrap();
    let state = url.query_pairs().find(|(k, _)| k == "state").unwrap().1;
    assert!(
        !state.contains("account"),
        "state is random, not the return path"
    );
}

#[tokio::test]
async fn access_denied_is_a_friendly_page_not_a_loop() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let to_callback = rig.until_callback(&browser).await;
    let cb = to_callback.location().unwrap();
    let state = cb
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let url = format!(
        "{}?error=access_denied&error_description=User+cancelled&state={state}",
        rig.url("/auth/callback")
    );
    let page = browser.get(&url).await;
    assert_failed(&page, &browser, 403, "Sign-in cancelled");
    assert!(!page.is_redirect());
    assert!(
        page.set_cookie("idme_login_*")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the login is cleared"
    );
}

#[tokio::test]
async fn unknown_kid_refetches_the_jwks_exactly_once() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let jwks_before = rig.emulator.stats().jwks;

    // The provider rotates its keys: the next login works after one refetch.
    rig.emulator.rotate_keys();
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(rig.emulator.stats().jwks, jwks_before + 1, "one refetch");

    // A kid that is never published: refused after at most one more refetch, and a
    // second attempt right after is rate-limited (no fetch at all).
    rig.emulator.set_faults([Fault::UnknownKid]);
    let jwks_before = rig.emulator.stats().jwks;
    for _ in 0..2 {
        let browser = Browser::new();
        let page = rig.sign_in(&browser, "/me").await;
        assert_failed(&page, &browser, 400, NOT_VERIFIED);
    }
    assert!(
        rig.emulator.stats().jwks <= jwks_before + 1,
        "rate-limited refetch"
    );
}

#[tokio::test]
async fn concurrent_unknown_kid_logins_share_one_refetch() {
    let rig = Rig::new().await;
    rig.idme.discover().await.unwrap();
    let jwks_before = rig.emulator.stats().jwks;
    rig.emulator.rotate_keys();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let url = rig.url("/auth/login?return_to=/me");
        tasks.push(tokio::spawn(async move {
            let browser = Browser::new();
            let start = browser.get(&url).await;
            browser.navigate(start, None).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(rig.emulator.stats().jwks, jwks_before + 1);
}

#[tokio::test]
async fn a_token_without_kid_works_when_one_key_fits() {
    let rig = Rig::new().await;
    rig.emulator.set_faults([Fault::NoKid]);
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
}

#[tokio::test]
async fn idme_jwks_quirks_are_tolerated() {
    let rig = Rig::with_emulator(
        EmulatorConfig {
            jwks_quirks: true,
            ..EmulatorConfig::default()
        },
        |b| b,
    )
    .await;
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
}

#[tokio::test]
async fn both_userinfo_shapes_are_read() {
    for fault in [Fault::PlainJsonUserinfo, Fault::DoubleQuotedUserinfo] {
        let rig = Rig::new().await;
        rig.emulator.set_faults([fault.clone()]);
        let browser = Browser::new();
        let page = rig.sign_in(&browser, "/me").await;
        assert_eq!(page.status, 200, "{fault:?}: {}", page.body);
        assert_eq!(page.json()["claims"]["fname"], "Vera", "{fault:?}");
    }
}

#[tokio::test]
async fn provider_down_at_login_is_a_clear_502() {
    let rig = Rig::new().await;
    rig.emulator.set_faults([Fault::DiscoveryDown]);
    let browser = Browser::new();
    let page = browser.get(&rig.url("/auth/login")).await;
    assert_failed(&page, &browser, 502, "cannot be reached");
}

#[tokio::test]
async fn session_id_is_renewed_at_every_login() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let first = browser.get(&rig.url("/account/sid")).await.body;
    let first_cookie = browser.cookie(SESSION).unwrap();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let second = browser.get(&rig.url("/account/sid")).await.body;
    assert_ne!(first, second, "a new session id at login");
    assert_ne!(first_cookie, browser.cookie(SESSION).unwrap());
}

#[tokio::test]
async fn cookies_are_httponly_and_scoped() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let start = browser.get(&rig.url("/auth/login")).await;
    let pending = start.set_cookie("idme_login_*").unwrap();
    assert!(
        pending.contains("HttpOnly") && pending.contains("SameSite=Lax"),
        "{pending}"
    );
    let authorize = browser.get(start.location().unwrap().as_str()).await;
    let done = browser.get(authorize.location().unwrap().as_str()).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let session = done.set_cookie(SESSION).unwrap();
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(
        session.contains("Path=/;"),
        "session cookie not scoped to the callback: {session}"
    );
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert_eq!(done.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn protected_routes_redirect_browsers_and_401_apis() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let page = browser.get(&rig.url("/account?x=1")).await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.headers["location"],
        "/auth/login?return_to=%2Faccount%3Fx%3D1"
    );
    let api = Browser::api_client();
    let page = api.get(&rig.url("/me")).await;
    assert_eq!(page.status, 401);
    assert_eq!(page.json()["error"], "unauthenticated");
    // Optional user: the public page works either way.
    assert_eq!(api.get(&rig.url("/")).await.body, "hello stranger");
}

#[tokio::test]
async fn a_tampered_session_cookie_is_not_a_session() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let value = browser.cookie(SESSION).unwrap();
    // Change the last character to a different one (it may already be an `A`).
    let last = if value.ends_with('A') { "B" } else { "A" };
    let tampered = format!("{}{last}", &value[..value.len() - 1]);
    let api = Browser::api_client();
    api.put_cookie(SESSION, &tampered, "/");
    let page = api.get(&rig.url("/me")).await;
    assert_eq!(page.status, 401);
    assert!(
        page.set_cookie(SESSION)
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_visits_the_provider() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let page = browser.post_form(&rig.url("/auth/logout"), &[]).await;
    assert_eq!(page.status, 303);
    let to = page.location().unwrap();
    // RP-initiated logout carries the ID token as `id_token_hint` (the emulator has an
    // end_session_endpoint), and it is the signed token the provider issued.
    let hint = to
        .query_pairs()
        .find(|(k, _)| k == "id_token_hint")
        .map(|(_, v)| v.into_owned())
        .expect("id_token_hint");
    assert_eq!(hint.split('.').count(), 3, "{hint}");
    assert!(to.as_str().starts_with(&rig.emulator.base_url()), "{to}");
    assert!(browser.cookie(SESSION).is_none());
    let back = browser.navigate(page, None).await;
    assert_eq!(back.url.as_str(), rig.url("/"));
    assert_eq!(rig.emulator.stats().logout, 1);
    let api = Browser::api_client();
    assert_eq!(api.get(&rig.url("/me")).await.status, 401);
}

#[tokio::test]
async fn cross_site_logout_is_refused() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let page = browser
        .post_form_with(
            &rig.url("/auth/logout"),
            &[],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(browser.cookie(SESSION).is_some());
}

#[tokio::test]
async fn personas_sign_in_as_themselves() {
    let rig = Rig::new().await;
    for persona in [Persona::Unverified, Persona::Student] {
        rig.emulator.set_auto_user(Some(persona));
        let browser = Browser::new();
        let page = rig.sign_in(&browser, "/me").await;
        assert_eq!(page.json()["sub"], persona.sub());
    }
}
