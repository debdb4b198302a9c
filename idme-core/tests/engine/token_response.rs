//! The bare OAuth `token` response type (no `openid`), in memory: an access token on the
//! fragment or form_post, never the query; the user identified by `attributes.json`.

use std::collections::HashMap;

use idme_core::require::{self, Verify};
use idme_core::{IdmeBuilder, LoginOptions, ResponseMode, ResponseType};
use idme_testkit::Persona;
use idme_testkit::pair::{Callback, Pair, assert_refused, signed_in};

fn token_flow(b: IdmeBuilder, mode: ResponseMode) -> IdmeBuilder {
    b.scopes(["military"])
        .response_type(ResponseType::Token)
        .response_mode(mode)
}

async fn signs_in(mode: ResponseMode) {
    let pair = Pair::new(|b| token_flow(b, mode)).await;
    let attempt = pair.attempt(&LoginOptions::new().return_to("/me")).await;
    let authorize = url::Url::parse(attempt.login.header("location").unwrap()).unwrap();
    let q: HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "token");
    assert!(!q["scope"].split(' ').any(|s| s == "openid"), "{q:?}");
    assert!(!q.contains_key("code_challenge"), "no PKCE without a code");
    assert!(signed_in(&attempt.reply), "{mode}: {}", attempt.reply.body);
    assert_eq!(attempt.reply.header("location"), Some("/me"));
    let mut browser = attempt.browser;
    let user = pair.authenticate(&mut browser).await.expect("a session");
    let me = user.user.to_json();
    assert_eq!(me["sub"], Persona::Veteran.sub(), "{me}");
    assert!(me["verification"].is_object(), "{me}");
    assert!(
        user.user
            .meets(&<require::Veteran as Verify>::requirement()),
        "attributes.json verified the veteran"
    );
    let s = pair.emulator.stats();
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
async fn tampered(edit: impl FnOnce(&mut Vec<(String, String)>)) -> (Pair, idme_core::Reply) {
    let pair = Pair::new(|b| token_flow(b, ResponseMode::FormPost)).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let mut fields = callback.params();
    assert!(
        fields.iter().any(|(k, _)| k == "access_token"),
        "{fields:?}"
    );
    edit(&mut fields);
    let reply = pair
        .deliver(&mut browser, &callback.with_params(&fields))
        .await;
    (pair, reply)
}

#[tokio::test]
async fn a_missing_access_token_is_refused() {
    let (pair, reply) = tampered(|f| f.retain(|(k, _)| k != "access_token")).await;
    assert_refused(&reply, 400, "could not be verified");
    assert_eq!(pair.emulator.stats().attributes, 0);
}

#[tokio::test]
async fn a_token_type_other_than_bearer_is_refused() {
    let (pair, reply) = tampered(|f| {
        for (k, v) in f.iter_mut() {
            if k == "token_type" {
                *v = "mac".into();
            }
        }
    })
    .await;
    assert_refused(&reply, 400, "could not be verified");
    assert_eq!(pair.emulator.stats().attributes, 0);
}

#[tokio::test]
async fn a_token_in_the_query_is_refused() {
    // The access token sent as a query to a form_post login: a token never travels there.
    let pair = Pair::new(|b| token_flow(b, ResponseMode::FormPost)).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let as_query = Callback::Query(callback.raw().to_owned());
    let reply = pair.deliver(&mut browser, &as_query).await;
    assert_refused(&reply, 400, "not valid");
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
