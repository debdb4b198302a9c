//! Step-up sign-in in memory (`RequestAuth::fresh`, an adapter's `Fresh<N>`), with the
//! simulated clock: a recent sign-in passes; an old one sends a browser through a login
//! with `max_age` and `prompt=login` that comes back to the page with a new session (and
//! passes: no loop); a provider that still answers an old `auth_time` gets an error page,
//! not a loop; without `auth_time`, the session's creation counts.

use std::time::Duration;

use idme_core::adapter::{GuardRequest, RejectionReason, RequestAuth};
use idme_core::{Idme, LoginOptions};
use idme_testkit::Fault;
use idme_testkit::pair::{Browser, Pair};

const PAGE: &str = "/verified/recent?tab=1";
const LOGIN: &str = "/auth/login?return_to=%2Fverified%2Frecent%3Ftab%3D1&max_age=300&prompt=login";
/// Past the 300 s allowed and the default clock skew (60 s).
const TOO_LATE: Duration = Duration::from_secs(300 + 60 + 1);

fn guard<'a>(idme: &'a Idme, accept: &'a str) -> GuardRequest<'a> {
    GuardRequest {
        idme: Some(idme),
        setup: ".layer(IdmeLayer::new(idme))",
        accept: Some(accept),
        path_and_query: PAGE,
        authorization: None,
        method: "GET",
        provenance: Default::default(),
        sec_fetch_mode: None,
    }
}

const HTML: &str = "text/html";
const JSON: &str = "application/json";

async fn fresh(
    pair: &Pair,
    browser: &mut Browser,
    accept: &str,
) -> Result<idme_core::IdmeUser, idme_core::adapter::Rejection> {
    let auth = RequestAuth::new();
    let user = auth
        .fresh(&guard(&pair.idme, accept), || browser.cookies(), 300)
        .await;
    browser.apply(&auth.response_effects().set_cookies);
    user
}

/// The login a `Fresh` rejection sends the browser to, as the login route reads it.
fn login_options(login_url: &str) -> LoginOptions {
    let query = login_url.split_once('?').map(|(_, q)| q);
    LoginOptions::from_query(query)
}

#[tokio::test]
async fn an_old_sign_in_is_sent_through_a_login_with_max_age_and_comes_back_without_a_loop() {
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    let signed_in_at = pair.now();
    let user = fresh(&pair, &mut browser, HTML)
        .await
        .expect("a recent sign-in");
    assert_eq!(user.auth_time(), signed_in_at);
    let first_session = user.session_id().to_owned();

    pair.advance(TOO_LATE);
    // An API client: 401 JSON naming what it needs.
    let rejection = fresh(&pair, &mut browser, JSON).await.unwrap_err();
    assert_eq!(
        rejection.reason(),
        &RejectionReason::StaleSignIn {
            max_age: 300,
            login_url: LOGIN.into()
        }
    );
    assert_eq!((rejection.status, rejection.reply.status), (401, 401));
    let body: serde_json::Value = serde_json::from_str(&rejection.reply.body).unwrap();
    assert_eq!(body["error"], "insufficient_user_authentication");
    assert_eq!(
        (body["max_age"].as_u64(), body["login_url"].as_str()),
        (Some(300), Some(LOGIN))
    );
    assert!(
        rejection.reply.header("www-authenticate").is_none(),
        "no bearer challenge for a cookie"
    );
    // A browser: a 303 to the login asking ID.me for a recent sign-in.
    let rejection = fresh(&pair, &mut browser, HTML).await.unwrap_err();
    assert_eq!((rejection.status, rejection.reply.status), (401, 303));
    assert_eq!(rejection.reply.header("location"), Some(LOGIN));

    let attempt = pair.attempt_in(browser, &login_options(LOGIN)).await;
    let authorize = attempt.login.header("location").unwrap();
    assert!(authorize.contains("max_age=300"), "{authorize}");
    assert!(authorize.contains("prompt=login"), "{authorize}");
    assert_eq!(attempt.reply.status, 303, "{}", attempt.reply.body);
    assert_eq!(
        attempt.reply.header("location"),
        Some(PAGE),
        "back to the page"
    );
    let mut browser = attempt.browser;
    let user = fresh(&pair, &mut browser, HTML)
        .await
        .expect("the new sign-in passes");
    assert_eq!(user.auth_time(), pair.now(), "a new auth_time");
    assert_ne!(
        user.session_id(),
        first_session,
        "the new session replaced the old"
    );
}

#[tokio::test]
async fn a_provider_that_answers_an_old_auth_time_gets_an_error_page_not_a_loop() {
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    pair.advance(TOO_LATE);
    let rejection = fresh(&pair, &mut browser, HTML).await.unwrap_err();
    let login_url = rejection.reply.header("location").unwrap().to_owned();
    pair.emulator.set_faults([Fault::StaleAuthTime]);
    let attempt = pair.attempt_in(browser, &login_options(&login_url)).await;
    assert_ne!(
        attempt.reply.status, 303,
        "no session, no redirect: {}",
        attempt.reply.body
    );
    assert!(
        attempt.reply.status >= 400,
        "an error page: {}",
        attempt.reply.status
    );
    assert!(
        attempt.reply.body.contains("<html"),
        "{}",
        attempt.reply.body
    );
    let mut browser = attempt.browser;
    let still = fresh(&pair, &mut browser, HTML).await.unwrap_err();
    assert!(
        matches!(still.reason(), RejectionReason::StaleSignIn { .. }),
        "{still:?}"
    );
}

#[tokio::test]
async fn the_provider_s_auth_time_counts_not_the_session_s_creation() {
    let pair = Pair::new(|b| b).await;
    // A login without `max_age`: an `auth_time` a day old is accepted, and kept.
    pair.emulator.set_faults([Fault::StaleAuthTime]);
    let mut browser = pair.sign_in().await;
    let rejection = fresh(&pair, &mut browser, HTML).await.unwrap_err();
    assert_eq!(rejection.reply.header("location"), Some(LOGIN));
    let user = pair.authenticate(&mut browser).await.unwrap().user;
    assert_eq!(user.auth_time(), pair.now() - 86_400);
}

#[tokio::test]
async fn without_auth_time_the_sign_in_here_counts() {
    let pair = Pair::new(|b| b).await;
    pair.emulator.set_faults([Fault::OmitAuthTime]);
    let mut browser = pair.sign_in().await;
    let signed_in_at = pair.now();
    pair.advance(Duration::from_secs(120));
    let user = fresh(&pair, &mut browser, HTML)
        .await
        .expect("recent enough");
    assert_eq!(user.auth_time(), signed_in_at, "the session's creation");
    assert!(user.claim("auth_time").is_none());
    pair.advance(TOO_LATE);
    let rejection = fresh(&pair, &mut browser, JSON).await.unwrap_err();
    assert_eq!(rejection.reply.status, 401);
}

#[tokio::test]
async fn the_skew_allowed_by_the_id_token_check_is_allowed_here() {
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    pair.advance(Duration::from_secs(360));
    fresh(&pair, &mut browser, JSON)
        .await
        .expect("within max_age and the skew");
    pair.advance(Duration::from_secs(1));
    fresh(&pair, &mut browser, JSON).await.unwrap_err();
}

#[tokio::test]
async fn a_user_reports_the_acr_of_the_sign_in() {
    const IAL2: &str = "http://idmanagement.gov/ns/assurance/ial/2/aal/2";
    let pair = Pair::new(|b| b.acr_values(IAL2)).await;
    let mut browser = pair.sign_in().await;
    let user = fresh(&pair, &mut browser, JSON).await.unwrap();
    assert_eq!(user.acr(), Some(IAL2), "the ID token's acr");
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    let user = fresh(&pair, &mut browser, JSON).await.unwrap();
    assert_eq!(user.acr(), None, "none asked, none sent");
}
