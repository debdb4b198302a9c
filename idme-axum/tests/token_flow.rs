//! The bare OAuth `token` response type (no `openid`): an access token on the fragment or
//! form_post, never the query; the user identified by `attributes.json`.

mod common;

use common::{Rig, SESSION, assert_failed};
use idme_core::{IdmeBuilder, ResponseMode, ResponseType};
use idme_testkit::Persona;
use idme_testkit::browser::{Browser, Page, form_fields};

fn token_flow(b: IdmeBuilder, mode: ResponseMode) -> IdmeBuilder {
    b.scopes(["military"])
        .response_type(ResponseType::Token)
        .response_mode(mode)
}

async fn signs_in(mode: ResponseMode) {
    let rig = Rig::with(|b| token_flow(b, mode)).await;
    let browser = Browser::new();
    let start = browser.get(&rig.url("/auth/login?return_to=/me")).await;
    let authorize = start.location().unwrap();
    let q: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "token");
    assert!(!q["scope"].split(' ').any(|s| s == "openid"), "{q:?}");
    assert!(!q.contains_key("code_challenge"), "no PKCE without a code");
    let page = browser.navigate(start, None).await;
    assert_eq!(page.status, 200, "{mode}: {}", page.body);
    assert_eq!(page.url.path(), "/me");
    let me = page.json();
    assert_eq!(me["sub"], Persona::Veteran.sub(), "{me}");
    assert!(me["verification"].is_object(), "{me}");
    assert!(browser.cookie(SESSION).is_some());
    assert_eq!(
        browser.get(&rig.url("/verified/veteran")).await.status,
        200,
        "attributes.json verified the veteran"
    );
    let s = rig.emulator.stats();
    assert_eq!((s.token, s.userinfo, s.attributes), (0, 0, 1), "{mode}");
}

#[tokio::test]
async fn token_fragment_signs_in() {
    signs_in(ResponseMode::Fragment).await;
}

#[tokio::test]
async fn token_form_post_signs_in() {
    signs_in(ResponseMode::FormPost).await;
}

/// The form_post fields the provider sent, changed by `edit`, posted to the callback.
async fn tampered(edit: impl FnOnce(&mut Vec<(String, String)>)) -> (Rig, Browser, Page) {
    let rig = Rig::with(|b| token_flow(b, ResponseMode::FormPost)).await;
    let browser = Browser::new();
    let form_page = rig.until_callback(&browser).await;
    let mut fields = form_fields(&form_page.body);
    assert!(
        fields.iter().any(|(k, _)| k == "access_token"),
        "{fields:?}"
    );
    edit(&mut fields);
    let page = browser.post_form(&rig.url("/auth/callback"), &fields).await;
    (rig, browser, page)
}

#[tokio::test]
async fn a_missing_access_token_is_refused() {
    let (rig, browser, page) = tampered(|f| f.retain(|(k, _)| k != "access_token")).await;
    assert_failed(&page, &browser, 400, "could not be verified");
    assert_eq!(rig.emulator.stats().attributes, 0);
}

#[tokio::test]
async fn a_token_type_other_than_bearer_is_refused() {
    let (rig, browser, page) = tampered(|f| {
        for (k, v) in f.iter_mut() {
            if k == "token_type" {
                *v = "mac".into();
            }
        }
    })
    .await;
    assert_failed(&page, &browser, 400, "could not be verified");
    assert_eq!(rig.emulator.stats().attributes, 0);
}

#[tokio::test]
async fn a_token_in_the_query_is_refused() {
    // The access token sent as a query to a form_post login: a token never travels there.
    let rig = Rig::with(|b| token_flow(b, ResponseMode::FormPost)).await;
    let browser = Browser::new();
    let form_page = rig.until_callback(&browser).await;
    let fields = form_fields(&form_page.body);
    let mut url = url::Url::parse(&rig.url("/auth/callback")).unwrap();
    url.query_pairs_mut().extend_pairs(&fields);
    let page = browser.get(url.as_str()).await;
    assert_failed(&page, &browser, 400, "not valid");
}

#[test]
fn configuration_refuses_query_mode_and_openid() {
    let base = || {
        IdmeBuilder::new()
            .client_id("cid")
            .redirect_uri("https://app.example/auth/callback")
            .response_type(ResponseType::Token)
    };
    let c = base().scopes(["military"]).build().unwrap();
    assert_eq!(c.response_mode(), ResponseMode::Fragment);
    assert!(!c.pkce());
    let e = base()
        .scopes(["military"])
        .response_mode(ResponseMode::Query)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("IDME_RESPONSE_MODE=query"), "{e}");
    let e = base().scopes(["openid", "military"]).build().unwrap_err();
    assert!(e.to_string().contains("IDME_SCOPES"), "{e}");
    assert_eq!(
        "token".parse::<ResponseType>().ok(),
        Some(ResponseType::Token)
    );
}
