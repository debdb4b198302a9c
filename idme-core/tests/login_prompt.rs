//! `prompt` and `max_age` (OIDC Core §3.1.2.1, §11) against the emulator: `prompt=none`
//! answered `login_required` is a clear page, `offline_access` carries `prompt=consent`,
//! and with `max_age` sent a missing or stale `auth_time` makes no session.

mod common;

use std::time::Duration;

use common::{EngineRig, HTTPS_REDIRECT, signed_in};
use idme_core::{LoginOptions, Prompt, ResponseMode, ResponseType};
use idme_testkit::{Fault, Persona};

const SESSION: &str = "__Host-idme_session";

#[tokio::test]
async fn prompt_none_without_a_provider_session_is_a_clear_page_not_a_loop() {
    let rig = EngineRig::new(HTTPS_REDIRECT, None, |b| b).await;
    let opts = LoginOptions::new().prompt(Prompt::none());
    let login = rig.login(&opts).await;
    assert!(
        login.header("location").unwrap().contains("prompt=none"),
        "prompt=none is sent"
    );
    let answer = rig.provider_answer(&login).await;
    assert_eq!(answer.param("error").as_deref(), Some("login_required"));
    let page = rig.callback(&login, &answer).await;
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
    let rig = EngineRig::new(HTTPS_REDIRECT, None, |b| b).await;
    for error in [
        "consent_required",
        "interaction_required",
        "account_selection_required",
    ] {
        let login = rig.login(&LoginOptions::new().prompt(Prompt::none())).await;
        let mut answer = rig.provider_answer(&login).await;
        if let common::Callback::Get(q) = &mut answer {
            *q = q.replace("login_required", error);
        }
        let page = rig.callback(&login, &answer).await;
        assert_eq!(page.status, 401, "{error}: {}", page.body);
        assert!(page.body.contains("not signed in at ID.me"), "{error}");
    }
}

#[tokio::test]
async fn prompt_none_with_a_provider_session_signs_in() {
    let rig = EngineRig::new(HTTPS_REDIRECT, Some(Persona::Veteran), |b| b).await;
    let done = rig
        .sign_in(&LoginOptions::new().prompt(Prompt::none()))
        .await;
    assert!(signed_in(&done, SESSION), "{done:?}");
}

#[tokio::test]
async fn offline_access_signs_in_at_a_strict_provider() {
    let rig = EngineRig::new(HTTPS_REDIRECT, Some(Persona::Veteran), |b| {
        b.scopes(["openid", "offline_access"])
    })
    .await;
    let login = rig.login(&LoginOptions::new()).await;
    assert!(login.header("location").unwrap().contains("prompt=consent"));
    let answer = rig.provider_answer(&login).await;
    let done = rig.callback(&login, &answer).await;
    assert!(signed_in(&done, SESSION), "{}", done.body);
}

#[tokio::test]
async fn offline_access_with_prompt_none_drops_offline_access() {
    let rig = EngineRig::new(HTTPS_REDIRECT, Some(Persona::Veteran), |b| {
        b.scopes(["openid", "offline_access"])
    })
    .await;
    let login = rig.login(&LoginOptions::new().prompt(Prompt::none())).await;
    let location = login.header("location").unwrap().to_owned();
    assert!(!location.contains("offline_access"), "{location}");
    let answer = rig.provider_answer(&login).await;
    assert!(signed_in(&rig.callback(&login, &answer).await, SESSION));
}

#[tokio::test]
async fn max_age_refuses_a_stale_auth_time() {
    for (rt, mode) in [
        (ResponseType::Code, ResponseMode::Query),
        (ResponseType::IdToken, ResponseMode::FormPost),
    ] {
        let rig = EngineRig::new(HTTPS_REDIRECT, Some(Persona::Veteran), |b| {
            b.response_type(rt).response_mode(mode)
        })
        .await;
        let opts = LoginOptions::new().max_age(Duration::from_secs(300));
        rig.emulator.set_faults([Fault::StaleAuthTime]);
        let page = rig.sign_in(&opts).await;
        assert_eq!(page.status, 400, "{rt}: {}", page.body);
        assert!(!signed_in(&page, SESSION));
        rig.emulator.set_faults([Fault::OmitAuthTime]);
        let page = rig.sign_in(&opts).await;
        assert_eq!(page.status, 400, "{rt}: {}", page.body);
        assert!(!signed_in(&page, SESSION));
        rig.emulator.clear_faults();
        let login = rig.login(&opts).await;
        assert!(login.header("location").unwrap().contains("max_age=300"));
        let answer = rig.provider_answer(&login).await;
        assert!(signed_in(&rig.callback(&login, &answer).await, SESSION));
    }
}

#[tokio::test]
async fn configured_max_age_applies_to_every_login() {
    let rig = EngineRig::new(HTTPS_REDIRECT, Some(Persona::Veteran), |b| {
        b.max_age(Duration::from_secs(600))
    })
    .await;
    rig.emulator.set_faults([Fault::StaleAuthTime]);
    let page = rig.sign_in(&LoginOptions::new()).await;
    assert_eq!(page.status, 400, "{}", page.body);
    // Without max_age a day-old sign-in at the provider is fine.
    let rig = EngineRig::new(HTTPS_REDIRECT, Some(Persona::Veteran), |b| b).await;
    rig.emulator.set_faults([Fault::StaleAuthTime]);
    assert!(signed_in(&rig.sign_in(&LoginOptions::new()).await, SESSION));
}
