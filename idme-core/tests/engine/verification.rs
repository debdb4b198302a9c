//! ID.me verification in memory: personas × requirements (the 403 page or JSON the
//! engine answers), the user-data sources (each access token spent once), OAuth mode,
//! and ID.me's request options.

use std::collections::HashMap;

use idme_core::require::{self, Verify};
use idme_core::{Group, IdmeUser, LoginOptions, Policy, Reply, UserDataSource};
use idme_testkit::pair::{Browser, Pair, signed_in};
use idme_testkit::{EmulatorConfig, Persona};

const HTML: Option<&str> = Some("text/html");
const JSON: Option<&str> = Some("application/json");

async fn signed_in_as(pair: &Pair, persona: Persona) -> (Browser, IdmeUser) {
    pair.emulator.set_auto_user(Some(persona));
    let mut browser = pair.sign_in().await;
    let user = pair.authenticate(&mut browser).await.expect("a session");
    (browser, user.user)
}

/// What a route guarded by `R` answers `user` (`Ok` when the user meets it).
fn guard<R: Verify>(
    pair: &Pair,
    user: &IdmeUser,
    accept: Option<&str>,
    path: &str,
) -> Result<(), Reply> {
    pair.idme.require(user, &R::requirement(), accept, path)
}

fn json(reply: &Reply) -> serde_json::Value {
    serde_json::from_str(&reply.body).expect("a JSON body")
}

#[tokio::test]
async fn personas_meet_or_fail_each_guard() {
    let pair = Pair::new(|b| b).await;
    for (persona, military, veteran) in [
        (Persona::Veteran, true, true),
        (Persona::MilitarySpouse, true, false),
        (Persona::Student, false, false),
        (Persona::Unverified, false, false),
    ] {
        let (_, user) = signed_in_as(&pair, persona).await;
        let answer = guard::<require::Military>(&pair, &user, HTML, "/verified/military");
        assert_eq!(answer.is_ok(), military, "{persona} military: {answer:?}");
        if let Err(page) = &answer {
            assert_eq!(page.status, 403, "{persona}");
        }
        let answer = guard::<require::Veteran>(&pair, &user, HTML, "/verified/veteran");
        assert_eq!(answer.is_ok(), veteran, "{persona} veteran: {answer:?}");
        if let Err(page) = answer {
            assert_eq!(page.status, 403, "{persona}");
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
    let pair = Pair::new(|b| b).await;
    let (_, user) = signed_in_as(&pair, Persona::Veteran).await;
    assert!(guard::<require::Ial2>(&pair, &user, HTML, "/verified/ial2").is_ok());

    let (browser, user) = signed_in_as(&pair, Persona::Unverified).await;
    let page = guard::<require::Ial2>(&pair, &user, HTML, "/verified/ial2").unwrap_err();
    assert_eq!(page.status, 403, "{}", page.body);
    let verify = "/auth/login?policy=http%3A%2F%2Fidmanagement.gov%2Fns%2Fassurance%2Fial%2F2%2Faal%2F2&amp;return_to=%2Fverified%2Fial2";
    assert!(page.body.contains(verify), "{}", page.body);
    assert!(page.body.contains("IAL2"), "{}", page.body);

    let page = guard::<require::Ial2>(&pair, &user, JSON, "/verified/ial2").unwrap_err();
    assert_eq!(page.status, 403);
    let body = json(&page);
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
    pair.emulator.set_auto_user(Some(Persona::Veteran));
    let query = verify.replace("&amp;", "&");
    let query = query.split_once('?').unwrap().1;
    let login = pair.idme.login(Some(query)).await;
    assert!(
        login
            .header("location")
            .unwrap()
            .contains("ial%2F2%2Faal%2F2"),
        "the login asks for the IAL2 policy"
    );
    let mut browser = browser;
    browser.apply(&login.set_cookies);
    let callback = pair.answer(&login).await;
    let done = pair.deliver(&mut browser, &callback).await;
    assert!(signed_in(&done), "{}", done.body);
    assert_eq!(done.header("location"), Some("/verified/ial2"));
    let user = pair.authenticate(&mut browser).await.unwrap().user;
    assert!(guard::<require::Ial2>(&pair, &user, HTML, "/verified/ial2").is_ok());
}

#[tokio::test]
async fn api_clients_get_json_403_and_401() {
    let pair = Pair::new(|b| b).await;
    let denied = pair
        .authenticate(&mut Browser::default())
        .await
        .unwrap_err();
    let reply = pair
        .idme
        .unauthenticated(denied, JSON, "/verified/military");
    assert_eq!(reply.status, 401);
    let (_, user) = signed_in_as(&pair, Persona::Student).await;
    let page = guard::<require::Veteran>(&pair, &user, JSON, "/verified/veteran").unwrap_err();
    assert_eq!(page.status, 403);
    let body = json(&page);
    assert_eq!(body["error"], "verification_required");
    assert_eq!(body["group"], "military");
    assert_eq!(body["subgroup"], "Veteran");
}

#[tokio::test]
async fn a_verify_link_asks_for_the_policy_and_comes_back() {
    let pair = Pair::new(|b| b).await;
    let (browser, _) = signed_in_as(&pair, Persona::Unverified).await;
    let login = pair
        .idme
        .login(Some("policy=military&return_to=%2Fverified%2Fmilitary"))
        .await;
    let authorize = url::Url::parse(login.header("location").unwrap()).unwrap();
    let scope = authorize
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(scope, "openid military");
    // ID.me verifies the person during the login: here, they turn out to be a veteran.
    pair.emulator.set_auto_user(Some(Persona::Veteran));
    let mut browser = browser;
    browser.apply(&login.set_cookies);
    let callback = pair.answer(&login).await;
    let done = pair.deliver(&mut browser, &callback).await;
    assert_eq!(done.header("location"), Some("/verified/military"));
    let user = pair.authenticate(&mut browser).await.unwrap().user;
    assert!(guard::<require::Military>(&pair, &user, HTML, "/verified/military").is_ok());
}

#[tokio::test]
async fn each_access_token_is_spent_once() {
    // The emulator enforces single-use access tokens (its default): userinfo with the
    // first token, a refresh, attributes.json with the second.
    let pair = Pair::new(|b| b).await;
    let (_, user) = signed_in_as(&pair, Persona::Veteran).await;
    let stats = pair.emulator.stats();
    assert_eq!((stats.userinfo, stats.attributes, stats.token), (1, 1, 2));
    let me = user.to_json();
    assert_eq!(me["claims"]["fname"], "Vera", "userinfo claims: {me}");
    assert_eq!(me["verification"]["groups"][0]["group"], "military", "{me}");
}

#[tokio::test]
async fn attributes_only_and_userinfo_only_sources() {
    let pair = Pair::new(|b| b.user_data(UserDataSource::Attributes)).await;
    let (_, user) = signed_in_as(&pair, Persona::Veteran).await;
    let s = pair.emulator.stats();
    assert_eq!((s.userinfo, s.attributes, s.token), (0, 1, 1));
    assert!(guard::<require::Veteran>(&pair, &user, HTML, "/verified/veteran").is_ok());

    let pair = Pair::new(|b| b.user_data(UserDataSource::Userinfo)).await;
    let (_, user) = signed_in_as(&pair, Persona::Veteran).await;
    let s = pair.emulator.stats();
    assert_eq!((s.userinfo, s.attributes, s.token), (1, 0, 1));
    // No verification status was read, so the guard cannot pass.
    let page = guard::<require::Military>(&pair, &user, HTML, "/verified/military").unwrap_err();
    assert_eq!(page.status, 403);
}

#[tokio::test]
async fn oauth_mode_identifies_the_user_by_attributes() {
    let pair = Pair::new(|b| b.scopes(["military"])).await;
    let (_, user) = signed_in_as(&pair, Persona::Veteran).await;
    let me = user.to_json();
    assert_eq!(me["sub"], Persona::Veteran.sub(), "{me}");
    assert!(guard::<require::Veteran>(&pair, &user, HTML, "/verified/veteran").is_ok());
    let s = pair.emulator.stats();
    assert_eq!((s.userinfo, s.attributes), (0, 1));
}

#[tokio::test]
async fn request_options_reach_the_authorize_url() {
    let pair = Pair::new(|b| {
        b.policies([Policy::Ial2])
            .acr_values("http://idmanagement.gov/ns/assurance/ial/2/aal/2")
    })
    .await;
    let login = pair
        .idme
        .login(Some("op=signup&locale=es&policy=military"))
        .await;
    let url = url::Url::parse(login.header("location").unwrap()).unwrap();
    assert_eq!(url.path(), "/es/oauth/authorize");
    let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
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
    let callback = pair.answer(&login).await;
    let done = pair.finish(&login, &callback).await;
    assert!(signed_in(&done), "{}", done.body);
}

#[tokio::test]
async fn eid_is_carried_from_code() {
    let pair = Pair::new(|b| b).await;
    let reply = pair.login_with(&LoginOptions::new().eid("order-42")).await;
    let location = reply.header("location").unwrap();
    assert!(location.contains("eid=order-42"), "{location}");
}

#[tokio::test]
async fn ial2_claims_are_typed() {
    let pair = Pair::new(|b| b).await;
    let (_, user) = signed_in_as(&pair, Persona::Veteran).await;
    assert_eq!(user.to_json()["claims"]["credential_ial"], "IAL2");
    assert!(user.is_ial2());
    assert_eq!(user.level_of_assurance(), Some(3));
    assert_eq!(user.credential_aal(), Some("AAL2"));
    assert_eq!(user.multifactor(), Some(true));
    assert!(user.is_verified(Group::Military));
}

#[tokio::test]
async fn unenabled_policies_are_reported_at_startup() {
    let config = EmulatorConfig {
        enabled_policies: vec!["military".into()],
        auto_user: Some(Persona::Veteran),
        ..EmulatorConfig::default()
    };
    let pair = Pair::with_emulator(config, |b| b.policies([Policy::Military, Policy::Teacher]))
        .await
        .unwrap();
    assert_eq!(
        pair.idme.check_policies().await.unwrap(),
        vec!["teacher".to_owned()]
    );
}
