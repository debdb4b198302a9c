//! The callback refuses what a browser or an attacker can forge, in memory: a missing or
//! altered `state`, a replayed callback, a missing or tampered pending cookie, an injected
//! code, a response in the wrong mode, an off-site `return_to`; and a sign-in always
//! makes a new session with well-scoped cookies.

use idme_core::{LoginOptions, ResponseMode};
use idme_testkit::pair::{
    Callback, PAIR_HTTP_REDIRECT_URI, Pair, assert_refused, clears_pending, signed_in,
};
use idme_testkit::{EmulatorConfig, Persona};

const PENDING: &str = "__Host-idme_login_";

#[tokio::test]
async fn state_missing_is_refused() {
    let pair = Pair::new(|b| b).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let reply = pair
        .deliver(&mut browser, &callback.with_param("state", None))
        .await;
    assert_refused(&reply, 400, "not valid");
    assert_eq!(pair.emulator.stats().token, 0, "no code exchange");
}

#[tokio::test]
async fn state_altered_is_refused() {
    let pair = Pair::new(|b| b).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let altered = format!("x{}", callback.param("state").unwrap());
    let reply = pair
        .deliver(&mut browser, &callback.with_param("state", Some(&altered)))
        .await;
    assert_refused(&reply, 400, "not valid");
    assert_eq!(pair.emulator.stats().token, 0, "no code exchange");
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let pair = Pair::new(|b| b).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let (name, value) = browser.find(PENDING).expect("one pending cookie");
    let done = pair.deliver(&mut browser, &callback).await;
    assert!(signed_in(&done), "{}", done.body);
    let tokens_before = pair.emulator.stats().token;

    // An attacker (or a back button) replays the callback with the same pending cookie.
    let mut attacker = idme_testkit::pair::Browser::default();
    attacker.put(&name, &value);
    let reply = pair.deliver(&mut attacker, &callback).await;
    assert_refused(&reply, 400, "already used");
    assert_eq!(
        pair.emulator.stats().token,
        tokens_before,
        "the code is not spent again"
    );
}

#[tokio::test]
async fn missing_pending_cookie_asks_to_start_again() {
    let pair = Pair::new(|b| b).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    browser.remove(PENDING);
    let reply = pair.deliver(&mut browser, &callback).await;
    assert_refused(&reply, 400, "Please start again");
    assert!(
        reply.body.contains("href=\"/auth/login\""),
        "offers to start again"
    );
}

#[tokio::test]
async fn tampered_pending_cookie_is_refused() {
    let pair = Pair::new(|b| b).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let (name, value) = browser.find(PENDING).unwrap();
    let mut v = value.into_bytes();
    let mid = v.len() / 2;
    v[mid] = if v[mid] == b'A' { b'B' } else { b'A' };
    browser.put(&name, std::str::from_utf8(&v).unwrap());
    let reply = pair.deliver(&mut browser, &callback).await;
    assert_refused(&reply, 400, "Please start again");
}

#[tokio::test]
async fn an_injected_code_fails_pkce() {
    // The attacker obtains a code for their own login, then injects it into the victim's
    // callback with the victim's state: the victim's PKCE verifier does not fit.
    let pair = Pair::new(|b| b).await;
    let (_, _, attacker_cb) = pair.until_callback(&LoginOptions::new()).await;
    let code = attacker_cb.param("code").unwrap();
    let (mut victim, _, victim_cb) = pair.until_callback(&LoginOptions::new()).await;
    let reply = pair
        .deliver(&mut victim, &victim_cb.with_param("code", Some(&code)))
        .await;
    assert_refused(&reply, 400, "could not complete the sign-in");
}

#[tokio::test]
async fn response_mode_is_enforced() {
    // A form_post login must not accept a code delivered in a query string.
    let pair = Pair::new(|b| b.response_mode(ResponseMode::FormPost)).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    assert!(matches!(callback, Callback::FormPost(_)), "{callback:?}");
    let as_query = Callback::Query(callback.raw().to_owned());
    let reply = pair.deliver(&mut browser, &as_query).await;
    assert_refused(&reply, 400, "not valid");
}

#[tokio::test]
async fn return_to_cannot_redirect_off_site() {
    let pair = Pair::new(|b| b).await;
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "%2F%2Fevil.example",
        "javascript:alert(1)",
    ] {
        let query = format!(
            "return_to={}",
            url::form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>()
        );
        let login = pair.idme.login(Some(&query)).await;
        let mut browser = idme_testkit::pair::Browser::default();
        browser.apply(&login.set_cookies);
        let callback = pair.answer(&login).await;
        let reply = pair.deliver(&mut browser, &callback).await;
        assert_eq!(reply.status, 303, "{evil}: {}", reply.body);
        assert_eq!(
            reply.header("location"),
            Some("/"),
            "{evil} falls back to /"
        );
    }
}

#[tokio::test]
async fn state_is_never_the_return_path() {
    let pair = Pair::new(|b| b).await;
    let login = pair.idme.login(Some("return_to=/account")).await;
    let url = url::Url::parse(login.header("location").unwrap()).unwrap();
    let state = url.query_pairs().find(|(k, _)| k == "state").unwrap().1;
    assert!(
        !state.contains("account"),
        "state is random, not the return path"
    );
}

#[tokio::test]
async fn access_denied_is_a_friendly_page_not_a_loop() {
    let pair = Pair::new(|b| b).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let state = callback.param("state").unwrap();
    let denied = Callback::Query(format!(
        "error=access_denied&error_description=User+cancelled&state={state}"
    ));
    let reply = pair.deliver(&mut browser, &denied).await;
    assert_refused(&reply, 403, "Sign-in cancelled");
    assert!(reply.header("location").is_none(), "not a redirect");
    assert!(clears_pending(&reply), "the login is cleared");
}

#[tokio::test]
async fn session_id_is_renewed_at_every_login() {
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    let first = pair.authenticate(&mut browser).await.unwrap();
    let first_cookie = browser.find("__Host-idme_session").unwrap();
    let again = pair.attempt_in(browser, &LoginOptions::new()).await;
    assert!(signed_in(&again.reply), "{}", again.reply.body);
    let mut browser = again.browser;
    let second = pair.authenticate(&mut browser).await.unwrap();
    assert_ne!(
        first.user.session_id(),
        second.user.session_id(),
        "a new session id at login"
    );
    assert_ne!(first_cookie, browser.find("__Host-idme_session").unwrap());
}

#[tokio::test]
async fn cookies_are_httponly_and_scoped() {
    let veteran = EmulatorConfig {
        auto_user: Some(Persona::Veteran),
        ..EmulatorConfig::default()
    };
    let pair = Pair::at(PAIR_HTTP_REDIRECT_URI, veteran, |b| b)
        .await
        .unwrap();
    let attempt = pair.attempt(&LoginOptions::new()).await;
    let pending = attempt
        .login
        .set_cookies
        .iter()
        .find(|c| c.name.starts_with("idme_login_"))
        .unwrap()
        .header_value();
    assert!(
        pending.contains("HttpOnly") && pending.contains("SameSite=Lax"),
        "{pending}"
    );
    let done = &attempt.reply;
    assert_eq!(done.status, 303, "{}", done.body);
    let session = done
        .set_cookies
        .iter()
        .find(|c| c.name == "idme_session")
        .unwrap()
        .header_value();
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(
        session.contains("Path=/;"),
        "session cookie not scoped to the callback: {session}"
    );
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert_eq!(done.header("cache-control"), Some("no-store"));
}
