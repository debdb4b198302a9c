//! Every response type × allowed response mode signs a person in, in memory: the
//! emulator redirects with a query or a fragment (the engine's relay page, then its
//! `POST`) or answers a form_post page, and the engine finishes the login.

use std::collections::HashMap;

use idme_core::{LoginOptions, ResponseMode, ResponseType, TokenAuthMethod};
use idme_testkit::pair::{Callback, PAIR_HTTP_REDIRECT_URI, Pair, signed_in};
use idme_testkit::{EmulatorConfig, Persona};

async fn signs_in(rt: ResponseType, mode: ResponseMode) {
    let pair = Pair::new(|b| b.response_type(rt).response_mode(mode)).await;
    let attempt = pair.attempt(&LoginOptions::new().return_to("/me")).await;
    let shape_fits = matches!(
        (&attempt.callback, mode),
        (Callback::Query(_), ResponseMode::Query)
            | (Callback::Fragment(_), ResponseMode::Fragment)
            | (Callback::FormPost(_), ResponseMode::FormPost)
    );
    assert!(shape_fits, "{rt} × {mode}: {:?}", attempt.callback);
    let reply = &attempt.reply;
    assert!(signed_in(reply), "{rt} × {mode}: {}", reply.body);
    assert_eq!(
        reply.header("location"),
        Some("/me"),
        "{rt} × {mode} returns to return_to"
    );
    assert!(
        attempt
            .browser
            .names()
            .iter()
            .all(|n| !n.contains("idme_login_")),
        "{rt} × {mode}: the pending-login cookie is deleted after use"
    );
    let mut browser = attempt.browser;
    let user = pair.authenticate(&mut browser).await.expect("a session");
    assert_eq!(user.user.sub(), Persona::Veteran.sub(), "{rt} × {mode}");
    let stats = pair.emulator.stats();
    let returns_code = rt.as_str().split(' ').any(|w| w == "code");
    // Code flows: the exchange, then one refresh so attributes.json gets its own
    // single-use access token. Implicit flows never reach the token endpoint.
    assert_eq!(
        stats.token,
        if returns_code { 2 } else { 0 },
        "{rt} × {mode}: token endpoint calls"
    );
    assert_eq!(stats.attributes, u64::from(returns_code), "{rt} × {mode}");
    // Userinfo whenever an access token came back (every type but `id_token`).
    let expects_userinfo = rt != ResponseType::IdToken;
    assert_eq!(stats.userinfo, u64::from(expects_userinfo), "{rt} × {mode}");
    if expects_userinfo {
        let me = user.user.to_json();
        assert_eq!(
            me["claims"]["fname"], "Vera",
            "{rt} × {mode}: userinfo claims merged: {me}"
        );
    }
}

macro_rules! flow_tests {
    ($($name:ident: $rt:ident, $mode:ident;)*) => {$(
        #[tokio::test]
        async fn $name() {
            signs_in(ResponseType::$rt, ResponseMode::$mode).await;
        }
    )*};
}

flow_tests! {
    code_query: Code, Query;
    code_fragment: Code, Fragment;
    code_form_post: Code, FormPost;
    id_token_fragment: IdToken, Fragment;
    id_token_form_post: IdToken, FormPost;
    id_token_token_fragment: IdTokenToken, Fragment;
    id_token_token_form_post: IdTokenToken, FormPost;
    code_id_token_fragment: CodeIdToken, Fragment;
    code_id_token_form_post: CodeIdToken, FormPost;
    code_token_fragment: CodeToken, Fragment;
    code_token_form_post: CodeToken, FormPost;
    code_id_token_token_fragment: CodeIdTokenToken, Fragment;
    code_id_token_token_form_post: CodeIdTokenToken, FormPost;
}

#[tokio::test]
async fn client_secret_post_works() {
    let pair = Pair::new(|b| b.token_auth(TokenAuthMethod::ClientSecretPost)).await;
    let mut browser = pair.sign_in().await;
    let user = pair.authenticate(&mut browser).await.expect("a session");
    assert_eq!(user.user.sub(), Persona::Veteran.sub());
}

#[tokio::test]
async fn code_flow_without_pkce_when_turned_off() {
    let pair = Pair::new(|b| b.pkce(false)).await;
    let login = pair.login().await;
    assert!(!login.header("location").unwrap().contains("code_challenge"));
    let query = pair.authorize(&login).await;
    let reply = pair.callback(&login, &query).await;
    assert!(signed_in(&reply), "{}", reply.body);
}

#[tokio::test]
async fn authorization_request_carries_state_nonce_and_pkce_s256() {
    let veteran = EmulatorConfig {
        auto_user: Some(Persona::Veteran),
        ..EmulatorConfig::default()
    };
    let pair = Pair::at(PAIR_HTTP_REDIRECT_URI, veteran, |b| b)
        .await
        .unwrap();
    let start = pair.login().await;
    assert_eq!(start.status, 303);
    let url = url::Url::parse(start.header("location").unwrap()).unwrap();
    let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["redirect_uri"], PAIR_HTTP_REDIRECT_URI);
    assert!(q["state"].len() >= 43 && q["nonce"].len() >= 43);
    assert!(!q.contains_key("response_mode"), "default mode is not sent");
    let pending = start
        .set_cookies
        .iter()
        .find(|c| c.name.starts_with("idme_login_"))
        .unwrap()
        .header_value();
    assert!(pending.contains("HttpOnly"), "{pending}");
    assert!(pending.contains("Path=/auth/callback"), "{pending}");
    assert!(pending.contains("Max-Age=600"), "{pending}");
    assert!(
        !pending.contains(&q["state"].to_string()),
        "state not readable in the cookie"
    );
}

#[tokio::test]
async fn two_tabs_sign_in_in_parallel() {
    let pair = Pair::new(|b| b).await;
    let mut browser = idme_testkit::pair::Browser::default();
    let first = pair.login_with(&LoginOptions::new().return_to("/me")).await;
    browser.apply(&first.set_cookies);
    let second = pair
        .login_with(&LoginOptions::new().return_to("/account"))
        .await;
    browser.apply(&second.set_cookies);
    let second_cb = pair.answer(&second).await;
    let done_second = pair.deliver(&mut browser, &second_cb).await;
    assert_eq!(done_second.header("location"), Some("/account"));
    let first_cb = pair.answer(&first).await;
    let done_first = pair.deliver(&mut browser, &first_cb).await;
    assert!(signed_in(&done_first), "{}", done_first.body);
    assert_eq!(done_first.header("location"), Some("/me"));
}

#[tokio::test]
async fn personas_sign_in_as_themselves() {
    let pair = Pair::new(|b| b).await;
    for persona in [Persona::Unverified, Persona::Student] {
        pair.emulator.set_auto_user(Some(persona));
        let mut browser = pair.sign_in().await;
        let user = pair.authenticate(&mut browser).await.expect("a session");
        assert_eq!(user.user.sub(), persona.sub());
    }
}
