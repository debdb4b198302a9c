//! The pending-login cookie: `__Host-` prefixed with `Path=/; Secure` over https (so a
//! sibling subdomain cannot plant one), today's name and callback path on plain-http
//! loopback; the callback finds it by the same rule.

use idme_core::{LoginOptions, ResponseMode, SameSite};
use idme_testkit::Persona;
use idme_testkit::pair::{PAIR_REDIRECT_URI, signed_in_as as signed_in};

use super::common;
use common::{login, rig_at};

#[tokio::test]
async fn https_pending_cookie_is_host_prefixed_and_the_callback_finds_it() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| b).await;
    let login = login(&rig, &LoginOptions::new()).await;
    let pending = &login.set_cookies[0];
    assert!(
        pending.name.starts_with("__Host-idme_login_"),
        "{}",
        pending.name
    );
    assert_eq!(pending.path, "/");
    assert!(pending.secure);
    assert_eq!(pending.same_site, SameSite::Lax);
    let header = pending.header_value();
    assert!(
        header.contains("Path=/;") && header.contains("; Secure"),
        "{header}"
    );

    let answer = rig.answer(&login).await;
    let done = rig.finish(&login, &answer).await;
    assert!(signed_in(&done, "__Host-idme_session"), "{done:?}");
    let clear = done
        .set_cookies
        .iter()
        .find(|c| c.name == pending.name)
        .expect("the pending cookie is cleared");
    assert_eq!((clear.max_age, clear.path.as_str()), (0, "/"));
}

#[tokio::test]
async fn https_form_post_pending_cookie_is_samesite_none() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
        b.response_mode(ResponseMode::FormPost)
    })
    .await;
    let login = login(&rig, &LoginOptions::new()).await;
    let pending = &login.set_cookies[0];
    assert!(pending.name.starts_with("__Host-idme_login_"));
    assert_eq!(pending.same_site, SameSite::None);
    let answer = rig.answer(&login).await;
    assert!(signed_in(
        &rig.finish(&login, &answer).await,
        "__Host-idme_session"
    ));
}

#[tokio::test]
async fn an_unprefixed_cookie_planted_by_a_sibling_is_not_accepted_over_https() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| b).await;
    let login = login(&rig, &LoginOptions::new()).await;
    let answer = rig.answer(&login).await;
    // The same sealed value under the old, unprefixed name (what a sibling subdomain can set).
    let mut planted = login.clone();
    planted.set_cookies[0].name = planted.set_cookies[0]
        .name
        .trim_start_matches("__Host-")
        .to_owned();
    let done = rig.finish(&planted, &answer).await;
    assert_eq!(done.status, 400, "{}", done.body);
    assert!(!signed_in(&done, "__Host-idme_session"));
}

#[tokio::test]
async fn loopback_http_keeps_the_name_and_callback_path() {
    let rig = rig_at(
        "http://127.0.0.1:9/auth/callback",
        Some(Persona::Veteran),
        |b| b,
    )
    .await;
    let login = login(&rig, &LoginOptions::new()).await;
    let pending = &login.set_cookies[0];
    assert!(pending.name.starts_with("idme_login_"), "{}", pending.name);
    assert_eq!(pending.path, "/auth/callback");
    assert!(!pending.secure);
    let answer = rig.answer(&login).await;
    assert!(signed_in(
        &rig.finish(&login, &answer).await,
        "idme_session"
    ));
}
