//! Every response type × allowed response mode signs a person in, end to end over
//! loopback: axum app ↔ emulator, with a browser that follows redirects, submits
//! form_post pages and relays fragments.

mod common;

use common::{Rig, SESSION};
use idme_core::{ResponseMode, ResponseType, TokenAuthMethod};
use idme_testkit::Persona;
use idme_testkit::browser::Browser;

async fn signs_in(rt: ResponseType, mode: ResponseMode) {
    let rig = Rig::with(|b| b.response_type(rt).response_mode(mode)).await;
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_eq!(page.status, 200, "{rt} × {mode}: {}", page.body);
    assert_eq!(page.url.path(), "/me", "{rt} × {mode} returns to return_to");
    let me = page.json();
    assert_eq!(me["sub"], Persona::Veteran.sub(), "{rt} × {mode}: {me}");
    assert!(browser.cookie(SESSION).is_some());
    assert!(
        browser
            .cookies()
            .iter()
            .all(|c| !c.name.starts_with("idme_login_")),
        "{rt} × {mode}: the pending-login cookie is deleted after use"
    );
    let stats = rig.emulator.stats();
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
    let rig = Rig::with(|b| b.token_auth(TokenAuthMethod::ClientSecretPost)).await;
    let browser = Browser::new();
    let page = rig.sign_in(&browser, "/me").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.json()["sub"], Persona::Veteran.sub());
}

#[tokio::test]
async fn code_flow_without_pkce_when_turned_off() {
    let rig = Rig::with(|b| b.pkce(false)).await;
    let browser = Browser::new();
    let start = browser.get(&rig.url("/auth/login")).await;
    let authorize = start.location().unwrap();
    assert!(!authorize.as_str().contains("code_challenge"));
    let page = browser.navigate(start, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
}

#[tokio::test]
async fn authorization_request_carries_state_nonce_and_pkce_s256() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let start = browser.get(&rig.url("/auth/login")).await;
    assert_eq!(start.status, 303);
    let url = start.location().unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["redirect_uri"], rig.url("/auth/callback"));
    assert!(q["state"].len() >= 43 && q["nonce"].len() >= 43);
    assert!(!q.contains_key("response_mode"), "default mode is not sent");
    let pending = start.set_cookie("idme_login_*").unwrap();
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
    let rig = Rig::new().await;
    let browser = Browser::new();
    let first = browser.get(&rig.url("/auth/login?return_to=/me")).await;
    let second = browser
        .get(&rig.url("/auth/login?return_to=/account"))
        .await;
    let done_second = browser.navigate(second, None).await;
    assert_eq!(done_second.url.path(), "/account");
    let done_first = browser.navigate(first, None).await;
    assert_eq!(done_first.url.path(), "/me");
    assert_eq!(done_first.status, 200, "{}", done_first.body);
}
