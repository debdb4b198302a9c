//! ID.me verification end to end: personas × guards, the user-data sources (each access
//! token spent once), OAuth mode, and ID.me's request options.

mod common;

use common::Rig;
use idme_core::{Group, Policy, UserDataSource};
use idme_testkit::browser::Browser;
use idme_testkit::{EmulatorConfig, Persona};

async fn signed_in_as(rig: &Rig, persona: Persona) -> Browser {
    rig.emulator.set_auto_user(Some(persona));
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_eq!(page.status, 200, "{persona}: {}", page.body);
    browser
}

#[tokio::test]
async fn personas_meet_or_fail_each_guard() {
    let rig = Rig::new().await;
    for (persona, military, veteran) in [
        (Persona::Veteran, 200, 200),
        (Persona::MilitarySpouse, 200, 403),
        (Persona::Student, 403, 403),
        (Persona::Unverified, 403, 403),
    ] {
        let browser = signed_in_as(&rig, persona).await;
        let page = browser.get(&rig.url("/verified/military")).await;
        assert_eq!(
            page.status, military,
            "{persona} /verified/military: {}",
            page.body
        );
        let page = browser.get(&rig.url("/verified/veteran")).await;
        assert_eq!(
            page.status, veteran,
            "{persona} /verified/veteran: {}",
            page.body
        );
        if veteran == 403 {
            assert!(
                page.body.contains("Verify your military status with ID.me"),
                "{persona}: the 403 page offers to verify: {}",
                page.body
            );
            assert!(
                page.body
                    .contains("/auth/login?policy=military&amp;return_to=%2Fverified%2Fveteran"),
                "{}",
                page.body
            );
        }
    }
}

#[tokio::test]
async fn ial2_guard_admits_only_identity_verified_users() {
    let rig = Rig::new().await;
    let browser = signed_in_as(&rig, Persona::Veteran).await;
    let page = browser.get(&rig.url("/verified/ial2")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body, Persona::Veteran.sub());

    let browser = signed_in_as(&rig, Persona::Unverified).await;
    let page = browser.get(&rig.url("/verified/ial2")).await;
    assert_eq!(page.status, 403, "{}", page.body);
    let verify = "/auth/login?policy=http%3A%2F%2Fidmanagement.gov%2Fns%2Fassurance%2Fial%2F2%2Faal%2F2&amp;return_to=%2Fverified%2Fial2";
    assert!(page.body.contains(verify), "{}", page.body);
    assert!(page.body.contains("IAL2"), "{}", page.body);

    let api = Browser::api_client();
    api.put_cookie(
        common::SESSION,
        &browser.cookie(common::SESSION).unwrap(),
        "/",
    );
    let page = api.get(&rig.url("/verified/ial2")).await;
    assert_eq!(page.status, 403);
    let body = page.json();
    assert_eq!(body["error"], "verification_required");
    assert_eq!(body["policy"], Policy::Ial2.handle());
    assert!(
        body["verify_url"]
            .as_str()
            .unwrap()
            .contains("policy=http%3A%2F%2Fidmanagement.gov"),
        "{body}"
    );

    // The verify link signs the person in again asking for IAL2, and comes back.
    rig.emulator.set_auto_user(Some(Persona::Veteran));
    let start = browser.get(&rig.url(&verify.replace("&amp;", "&"))).await;
    assert!(
        start
            .location()
            .unwrap()
            .as_str()
            .contains("ial%2F2%2Faal%2F2"),
        "the login asks for the IAL2 policy"
    );
    let page = browser.navigate(start, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.url.path(), "/verified/ial2");
}

#[tokio::test]
async fn api_clients_get_json_403_and_401() {
    let rig = Rig::new().await;
    let api = Browser::api_client();
    assert_eq!(api.get(&rig.url("/verified/military")).await.status, 401);
    let browser = signed_in_as(&rig, Persona::Student).await;
    let api = Browser::api_client();
    api.put_cookie(
        common::SESSION,
        &browser.cookie(common::SESSION).unwrap(),
        "/",
    );
    let page = api.get(&rig.url("/verified/veteran")).await;
    assert_eq!(page.status, 403);
    let body = page.json();
    assert_eq!(body["error"], "verification_required");
    assert_eq!(body["group"], "military");
    assert_eq!(body["subgroup"], "Veteran");
}

#[tokio::test]
async fn a_verify_link_asks_for_the_policy_and_comes_back() {
    let rig = Rig::new().await;
    let browser = signed_in_as(&rig, Persona::Unverified).await;
    let start = browser
        .get(&rig.url("/auth/login?policy=military&return_to=%2Fverified%2Fmilitary"))
        .await;
    let authorize = start.location().unwrap();
    let scope = authorize
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(scope, "openid military");
    // ID.me verifies the person during the login: here, they turn out to be a veteran.
    rig.emulator.set_auto_user(Some(Persona::Veteran));
    let page = browser.navigate(start, None).await;
    assert_eq!(page.url.path(), "/verified/military");
    assert_eq!(page.status, 200, "{}", page.body);
}

#[tokio::test]
async fn each_access_token_is_spent_once() {
    // The emulator enforces single-use access tokens (its default): userinfo with the
    // first token, a refresh, attributes.json with the second.
    let rig = Rig::new().await;
    let browser = signed_in_as(&rig, Persona::Veteran).await;
    let stats = rig.emulator.stats();
    assert_eq!((stats.userinfo, stats.attributes, stats.token), (1, 1, 2));
    let me = browser.get(&rig.url("/me")).await.json();
    assert_eq!(me["claims"]["fname"], "Vera", "userinfo claims: {me}");
    assert_eq!(me["verification"]["groups"][0]["group"], "military", "{me}");
}

#[tokio::test]
async fn attributes_only_and_userinfo_only_sources() {
    let rig = Rig::with(|b| b.user_data(UserDataSource::Attributes)).await;
    let browser = signed_in_as(&rig, Persona::Veteran).await;
    let s = rig.emulator.stats();
    assert_eq!((s.userinfo, s.attributes, s.token), (0, 1, 1));
    assert_eq!(browser.get(&rig.url("/verified/veteran")).await.status, 200);

    let rig = Rig::with(|b| b.user_data(UserDataSource::Userinfo)).await;
    let browser = signed_in_as(&rig, Persona::Veteran).await;
    let s = rig.emulator.stats();
    assert_eq!((s.userinfo, s.attributes, s.token), (1, 0, 1));
    // No verification status was read, so the guard cannot pass.
    assert_eq!(
        browser.get(&rig.url("/verified/military")).await.status,
        403
    );
}

#[tokio::test]
async fn oauth_mode_identifies_the_user_by_attributes() {
    let rig = Rig::with(|b| b.scopes(["military"])).await;
    let browser = signed_in_as(&rig, Persona::Veteran).await;
    let me = browser.get(&rig.url("/me")).await.json();
    assert_eq!(me["sub"], Persona::Veteran.sub(), "{me}");
    assert_eq!(browser.get(&rig.url("/verified/veteran")).await.status, 200);
    let s = rig.emulator.stats();
    assert_eq!((s.userinfo, s.attributes), (0, 1));
}

#[tokio::test]
async fn request_options_reach_the_authorize_url() {
    let rig = Rig::with(|b| {
        b.policies([Policy::Ial2])
            .acr_values("http://idmanagement.gov/ns/assurance/ial/2/aal/2")
    })
    .await;
    let browser = Browser::new();
    let start = browser
        .get(&rig.url("/auth/login?op=signup&locale=es&policy=military"))
        .await;
    let url = start.location().unwrap();
    assert_eq!(url.path(), "/es/oauth/authorize");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["op"], "signup");
    assert_eq!(
        q["scope"],
        "openid http://idmanagement.gov/ns/assurance/ial/2/aal/2 military"
    );
    assert_eq!(
        q["acr_values"],
        "http://idmanagement.gov/ns/assurance/ial/2/aal/2"
    );
    // The emulator serves the localised path too, so the login completes.
    let page = browser.navigate(start, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
}

#[tokio::test]
async fn eid_is_carried_from_code() {
    let rig = Rig::new().await;
    let reply = rig
        .idme
        .login_with(&idme_core::LoginOptions::new().eid("order-42"))
        .await;
    let location = reply.header("location").unwrap();
    assert!(location.contains("eid=order-42"), "{location}");
}

#[tokio::test]
async fn ial2_claims_are_typed() {
    let rig = Rig::new().await;
    let browser = signed_in_as(&rig, Persona::Veteran).await;
    let me = browser.get(&rig.url("/me")).await.json();
    assert_eq!(me["claims"]["credential_ial"], "IAL2");
    let cookies = idme_core::RequestCookies::from_header_values([format!(
        "{}={}",
        common::SESSION,
        browser.cookie(common::SESSION).unwrap()
    )
    .as_str()]);
    let user = rig.idme.authenticate(&cookies).await.unwrap().user;
    assert!(user.is_ial2());
    assert_eq!(user.level_of_assurance(), Some(3));
    assert_eq!(user.credential_aal(), Some("AAL2"));
    assert_eq!(user.multifactor(), Some(true));
    assert!(user.is_verified(Group::Military));
}

#[tokio::test]
async fn unenabled_policies_are_reported_at_startup() {
    let rig = Rig::with_emulator(
        EmulatorConfig {
            enabled_policies: vec!["military".into()],
            ..EmulatorConfig::default()
        },
        |b| b.policies([Policy::Military, Policy::Teacher]),
    )
    .await;
    assert_eq!(
        rig.idme.check_policies().await.unwrap(),
        vec!["teacher".to_owned()]
    );
}
