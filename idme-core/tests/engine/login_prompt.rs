//! `prompt` and `max_age` (OIDC Core §3.1.2.1, §11) against the in-memory emulator: `prompt=none`
//! answered `login_required` is a clear page, `offline_access` carries `prompt=consent`,
//! and with `max_age` sent a missing or stale `auth_time` makes no session.

use std::time::Duration;

use idme_core::{LoginOptions, Prompt, ResponseMode, ResponseType};
use idme_testkit::pair::{Callback, PAIR_REDIRECT_URI, signed_in_as as signed_in};
use idme_testkit::{Fault, Persona};

use super::common;
use common::{login, rig_at, sign_in};

const SESSION: &str = "__Host-idme_session";

#[tokio::test]
async fn prompt_none_without_a_provider_session_is_a_clear_page_not_a_loop() {
    let rig = rig_at(PAIR_REDIRECT_URI, None, |b| b).await;
    let opts = LoginOptions::new().prompt(Prompt::none());
    let login = login(&rig, &opts).await;
    assert!(
        login.header("location").unwrap().contains("prompt=none"),
        "prompt=none is sent"
    );
    let answer = rig.answer(&login).await;
    assert_eq!(answer.param("error").as_deref(), Some("login_required"));
    let page = rig.finish(&login, &answer).await;
    assert_eq!(page.status, 401, "{}", page.body);
    assert!(page.header("location").is_none(), "no redirect: no loop");
    assert!(
        page.body.contains("not signed in at ID.me"),
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"/auth/login\""), "{}", page.body);
    assert!(!page.body.contains("prompt"), "{}", page.body);
    assert!(!signed_in(&page, SESSION));
}

#[tokio::test]
async fn every_interaction_error_of_prompt_none_gets_the_same_page() {
    let rig = rig_at(PAIR_REDIRECT_URI, None, |b| b).await;
    for error in [
        "consent_required",
        "interaction_required",
        "account_selection_required",
    ] {
        let login = login(&rig, &LoginOptions::new().prompt(Prompt::none())).await;
        let mut answer = rig.answer(&login).await;
        if let Callback::Query(q) = &mut answer {
            *q = q.replace("login_required", error);
        }
        let page = rig.finish(&login, &answer).await;
        assert_eq!(page.status, 401, "{error}: {}", page.body);
        assert!(page.body.contains("not signed in at ID.me"), "{error}");
    }
}

#[tokio::test]
async fn prompt_none_with_a_provider_session_signs_in() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| b).await;
    let done = sign_in(&rig, &LoginOptions::new().prompt(Prompt::none())).await;
    assert!(signed_in(&done, SESSION), "{done:?}");
}

#[tokio::test]
async fn offline_access_signs_in_at_a_strict_provider() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
        b.scopes(["openid", "offline_access"])
    })
    .await;
    let login = login(&rig, &LoginOptions::new()).await;
    assert!(login.header("location").unwrap().contains("prompt=consent"));
    let answer = rig.answer(&login).await;
    let done = rig.finish(&login, &answer).await;
    assert!(signed_in(&done, SESSION), "{}", done.body);
}

#[tokio::test]
async fn offline_access_with_prompt_none_drops_offline_access() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
        b.scopes(["openid", "offline_access"])
    })
    .await;
    let login = login(&rig, &LoginOptions::new().prompt(Prompt::none())).await;
    let location = login.header("location").unwrap().to_owned();
    assert!(!location.contains("offline_access"), "{location}");
    let answer = rig.answer(&login).await;
    assert!(signed_in(&rig.finish(&login, &answer).await, SESSION));
}

#[tokio::test]
async fn max_age_refuses_a_stale_auth_time() {
    for (rt, mode) in [
        (ResponseType::Code, ResponseMode::Query),
        (ResponseType::IdToken, ResponseMode::FormPost),
    ] {
        let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
            b.response_type(rt).response_mode(mode)
        })
        .await;
        let opts = LoginOptions::new().max_age(Duration::from_secs(300));
        rig.emulator.set_faults([Fault::StaleAuthTime]);
        let page = sign_in(&rig, &opts).await;
        assert_eq!(page.status, 400, "{rt}: {}", page.body);
        assert!(!signed_in(&page, SESSION));
        rig.emulator.set_faults([Fault::OmitAuthTime]);
        let page = sign_in(&rig, &opts).await;
        assert_eq!(page.status, 400, "{rt}: {}", page.body);
        assert!(!signed_in(&page, SESSION));
        rig.emulator.clear_faults();
        let login = login(&rig, &opts).await;
        assert!(login.header("location").unwrap().contains("max_age=300"));
        let answer = rig.answer(&login).await;
        assert!(signed_in(&rig.finish(&login, &answer).await, SESSION));
    }
}

#[tokio::test]
async fn configured_max_age_applies_to_every_login() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
        b.max_age(Duration::from_secs(600))
    })
    .await;
    rig.emulator.set_faults([Fault::StaleAuthTime]);
    let page = sign_in(&rig, &LoginOptions::new()).await;
    assert_eq!(page.status, 400, "{}", page.body);
    // Without max_age a day-old sign-in at the provider is fine.
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| b).await;
    rig.emulator.set_faults([Fault::StaleAuthTime]);
    assert!(signed_in(
        &sign_in(&rig, &LoginOptions::new()).await,
        SESSION
    ));
}

#[tokio::test]
async fn prompt_none_from_the_login_query_ends_on_a_clear_page() {
    let rig = rig_at(PAIR_REDIRECT_URI, None, |b| b).await;
    let login = rig
        .idme
        .login(Some("prompt=none&max_age=120&return_to=/me"))
        .await;
    let url = url::Url::parse(login.header("location").unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(
        (q["prompt"].as_str(), q["max_age"].as_str()),
        ("none", "120")
    );
    let answer = rig.answer(&login).await;
    let page = rig.finish(&login, &answer).await;
    idme_testkit::pair::assert_refused(&page, 401, "not signed in at ID.me");
    assert!(page.body.contains("href=\"/auth/login\""), "{}", page.body);
}

#[tokio::test]
async fn invalid_prompt_and_max_age_from_the_login_query_are_not_sent() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| b).await;
    let login = rig.idme.login(Some("prompt=none%20login&max_age=-1")).await;
    let url = url::Url::parse(login.header("location").unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert!(
        !q.contains_key("prompt") && !q.contains_key("max_age"),
        "{q:?}"
    );
    let answer = rig.answer(&login).await;
    let done = rig.finish(&login, &answer).await;
    assert!(
        signed_in(&done, SESSION),
        "the login still completes: {}",
        done.body
    );
}
