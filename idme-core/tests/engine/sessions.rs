//! Production sessions in memory: key rotation and shared keys (a second engine on the
//! same emulator and clock), server-side stores, a store that is down, and automatic
//! refresh (single-flight, rotation, invalid_grant, provider down).

use std::sync::Arc;
use std::time::Duration;

use idme_core::{CookieKeys, Error, MemoryStore, RequestCookies};
use idme_testkit::pair::{Browser, Pair, SwitchableStore};
use idme_testkit::{Fault, Persona};

const KEY_A: [u8; 32] = [0xa1; 32];
const KEY_B: [u8; 32] = [0xb2; 32];
const SESSION: &str = "__Host-idme_session";

fn keys(masters: &[[u8; 32]]) -> CookieKeys {
    CookieKeys::from_masters(masters.iter().copied()).unwrap()
}

fn deletes_session(cookies: &[idme_core::SetCookie]) -> bool {
    cookies.iter().any(|c| c.name == SESSION && c.max_age == 0)
}

/// What an adapter's `IdmeUser` guard answers a request to `/me` carrying `cookies`.
async fn guard_answer(
    idme: &idme_core::Idme,
    cookies: RequestCookies,
    accept: &str,
) -> idme_core::Reply {
    let request = idme_core::adapter::GuardRequest {
        idme: Some(idme),
        setup: "Pair",
        accept: Some(accept),
        path_and_query: "/me",
        authorization: None,
        method: "GET",
        provenance: Default::default(),
        sec_fetch_mode: None,
    };
    idme_core::adapter::RequestAuth::new()
        .user(&request, move || cookies)
        .await
        .expect_err("no signed-in user")
        .reply
}

#[tokio::test]
async fn rotated_keys_keep_sessions_and_shared_keys_share_them() {
    let pair = Pair::new(|b| b.cookie_keys(keys(&[KEY_A]))).await;
    let browser = pair.sign_in().await;
    let cookies = browser.cookies();

    // Another instance with the same keys opens the session.
    let twin = pair.second(|b| b.cookie_keys(keys(&[KEY_A]))).unwrap();
    let user = twin.idme.authenticate(&cookies).await.unwrap().user;
    assert_eq!(user.sub(), Persona::Veteran.sub());

    // After rotation (new key first, old one still listed) the session survives...
    let rotated = pair
        .second(|b| b.cookie_keys(keys(&[KEY_B, KEY_A])))
        .unwrap();
    assert!(rotated.idme.authenticate(&cookies).await.is_ok());
    // ...and once the old key is retired it is refused cleanly, its cookie cleared.
    let retired = pair.second(|b| b.cookie_keys(keys(&[KEY_B]))).unwrap();
    let denied = retired.idme.authenticate(&cookies).await.unwrap_err();
    assert!(!denied.is_unavailable());
    assert!(deletes_session(&denied.set_cookies));
}

#[tokio::test]
async fn a_server_side_store_keeps_only_an_id_in_the_cookie_and_logout_ends_it_everywhere() {
    let store = Arc::new(MemoryStore::new());
    let pair = Pair::new({
        let store = store.clone();
        // Read the store on every request, so the logout elsewhere takes effect at once
        // (the default reuses a session read less than 500 ms ago).
        move |b| {
            b.cookie_keys(keys(&[KEY_A]))
                .session_store(store)
                .session_store_cache(Duration::ZERO)
        }
    })
    .await;
    let mut browser = pair.sign_in().await;
    assert_eq!(store.len(), 1);
    let cookie = browser.get(SESSION).unwrap().to_owned();
    assert!(
        cookie.len() < 200,
        "only a sealed id: {} bytes",
        cookie.len()
    );
    assert!(pair.authenticate(&mut browser).await.is_ok());

    // A second instance sharing the store and keys sees the session, and logs it out.
    let other = pair
        .second(|b| b.cookie_keys(keys(&[KEY_A])).session_store(store.clone()))
        .unwrap();
    let cookies = browser.cookies();
    assert!(other.idme.authenticate(&cookies).await.is_ok());
    let out = other.idme.logout(&cookies, None, Some("same-origin")).await;
    assert_eq!(out.status, 303);
    assert!(store.is_empty(), "logout deleted the stored session");
    // The first instance refuses the same cookie now.
    let denied = pair.authenticate(&mut browser).await.unwrap_err();
    assert!(
        matches!(denied.error, Error::Unauthenticated(_)),
        "{:?}",
        denied.error
    );
    assert!(deletes_session(&denied.set_cookies));
}

#[tokio::test]
async fn a_store_that_is_down_is_a_503_not_a_logout() {
    let store = SwitchableStore::new();
    let pair = Pair::new({
        let store = store.clone();
        move |b| b.session_store(store)
    })
    .await;
    let mut browser = pair.sign_in().await;
    store.set_down(true);
    let denied = pair.authenticate(&mut browser).await.unwrap_err();
    assert!(denied.is_unavailable(), "{:?}", denied.error);
    assert!(denied.set_cookies.is_empty(), "the session is kept");
    let reply = guard_answer(&pair.idme, browser.cookies(), "application/json").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["message"], "Sessions are temporarily unavailable");
    store.set_down(false);
    assert!(pair.authenticate(&mut browser).await.is_ok(), "recovers");
}

/// A pair whose sessions refresh on every request (the emulator's access tokens live 300 s).
async fn refreshing_pair() -> Pair {
    Pair::new(|b| {
        b.refresh_margin(Duration::from_secs(400))
            .cookie_keys(keys(&[KEY_A]))
    })
    .await
}

#[tokio::test]
async fn concurrent_requests_on_an_expiring_session_refresh_exactly_once() {
    let pair = refreshing_pair().await;
    let mut browser = pair.sign_in().await;
    let old = browser.get(SESSION).unwrap().to_owned();
    let before = pair.emulator.stats().token;

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let pair = pair.clone();
        let cookies = browser.cookies();
        tasks.spawn(async move { pair.idme.authenticate(&cookies).await });
    }
    let mut renewed = 0;
    while let Some(done) = tasks.join_next().await {
        let outcome = done.unwrap().expect("signed in");
        if outcome
            .set_cookies
            .iter()
            .any(|c| c.name == SESSION && c.max_age > 0)
        {
            renewed += 1;
        }
    }
    assert_eq!(
        pair.emulator.stats().token,
        before + 1,
        "one token call for 100 requests"
    );
    assert_eq!(renewed, 100, "every response carries the refreshed session");

    // A request still carrying the old cookie within the grace period reuses the outcome.
    assert!(pair.authenticate(&mut browser).await.is_ok());
    let refreshed = browser.get(SESSION).unwrap().to_owned();
    assert_ne!(refreshed, old);
    // The refreshed session is not refreshed again within the grace period...
    assert!(pair.authenticate(&mut browser).await.is_ok());
    assert_eq!(pair.emulator.stats().token, before + 1);
    // ...and its rotated refresh token was kept: another instance (same keys, no shared
    // memory) refreshes with it.
    let twin = pair
        .second(|b| {
            b.cookie_keys(keys(&[KEY_A]))
                .refresh_margin(Duration::from_secs(400))
        })
        .unwrap();
    let again = twin.idme.authenticate(&browser.cookies()).await.unwrap();
    assert!(again.set_cookies.iter().any(|c| c.name == SESSION));
    assert_eq!(pair.emulator.stats().token, before + 2);
}

/// The session value of a response, if it sets one.
fn session_value(cookies: &[idme_core::SetCookie]) -> Option<String> {
    cookies
        .iter()
        .find(|c| c.name == SESSION && c.max_age > 0)
        .map(|c| c.value.clone())
}

#[tokio::test]
async fn a_client_that_ignores_set_cookie_gets_one_sealed_value_not_a_seal_per_request() {
    let pair = Pair::new(|b| {
        b.refresh_margin(Duration::from_secs(400))
            .session_idle_timeout(Duration::from_secs(3600))
    })
    .await;
    let browser = pair.sign_in().await;
    // The client keeps presenting its pre-refresh cookie.
    let stale = browser.cookies();
    let mut values = Vec::new();
    for _ in 0..3 {
        let done = pair.idme.authenticate(&stale).await.expect("signed in");
        values.push(session_value(&done.set_cookies).expect("the refreshed session"));
    }
    assert!(
        values.windows(2).all(|w| w[0] == w[1]),
        "one seal, the same value each time"
    );
    // The value it was given opens, and is the refreshed session.
    let fresh = RequestCookies::from_header_values([format!("{SESSION}={}", values[0]).as_str()]);
    let done = pair.idme.authenticate(&fresh).await.expect("signed in");
    assert!(
        session_value(&done.set_cookies).is_none(),
        "nothing to renew"
    );
}

#[tokio::test]
async fn a_client_that_ignores_set_cookie_costs_one_seal_a_second_for_its_last_seen_time() {
    let pair = Pair::new(|b| b.session_idle_timeout(Duration::from_secs(3600))).await;
    let stale = pair.sign_in().await.cookies();
    // A minute on, the last-seen time is due on every request of this client.
    pair.advance(Duration::from_secs(61));
    let renewed = |done: idme_core::Authenticated| session_value(&done.set_cookies);
    let first = renewed(pair.idme.authenticate(&stale).await.unwrap()).expect("renewed");
    let second = renewed(pair.idme.authenticate(&stale).await.unwrap()).expect("renewed");
    assert_eq!(first, second, "within the second: sealed once");
    pair.advance(Duration::from_secs(1));
    let third = renewed(pair.idme.authenticate(&stale).await.unwrap()).expect("renewed");
    assert_ne!(third, first, "a new last-seen time is sealed");
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session() {
    let pair = refreshing_pair().await;
    let mut browser = pair.sign_in().await;
    let copy: RequestCookies = browser.cookies();
    pair.emulator.set_faults([Fault::TokenError {
        status: 400,
        body: r#"{"error":"invalid_grant","error_description":"revoked"}"#.into(),
    }]);
    let denied = pair.idme.authenticate(&copy).await.unwrap_err();
    assert!(
        matches!(denied.error, Error::Unauthenticated(_)),
        "{:?}",
        denied.error
    );
    assert!(deletes_session(&denied.set_cookies));
    let api = guard_answer(&pair.idme, copy.clone(), "application/json").await;
    assert_eq!(api.status, 401, "{}", api.body);
    // The browser (same session) is sent to sign in, its cookie cleared.
    pair.emulator.clear_faults();
    let page = guard_answer(&pair.idme, browser.cookies(), "text/html").await;
    let _ = pair.authenticate(&mut browser).await.unwrap_err();
    assert_eq!(page.status, 303);
    assert!(
        page.header("location")
            .unwrap()
            .contains("/auth/login?return_to=%2Fme")
    );
    assert!(browser.get(SESSION).is_none());
}

#[tokio::test]
async fn a_provider_down_during_refresh_keeps_the_session() {
    let pair = refreshing_pair().await;
    let mut browser = pair.sign_in().await;
    let old = browser.get(SESSION).unwrap().to_owned();
    pair.emulator.set_faults([Fault::TokenError {
        status: 503,
        body: "maintenance".into(),
    }]);
    let me = pair.authenticate(&mut browser).await.expect("signed in");
    assert!(
        me.set_cookies.iter().all(|c| c.name != SESSION),
        "session untouched"
    );
    assert_eq!(browser.get(SESSION).unwrap(), old);
}

/// A pair with or without a session store, and the browser of a signed-in veteran.
async fn signed_in(with_store: bool) -> (Pair, Arc<MemoryStore>, Browser) {
    let store = Arc::new(MemoryStore::new());
    let pair = Pair::new({
        let store = store.clone();
        move |b| {
            if with_store {
                b.session_store(store)
            } else {
                b
            }
        }
    })
    .await;
    let browser = pair.sign_in().await;
    (pair, store, browser)
}

#[tokio::test]
async fn backchannel_logout_ends_the_users_sessions() {
    use serde_json::json;
    for with_store in [false, true] {
        let (pair, store, mut browser) = signed_in(with_store).await;
        assert!(pair.authenticate(&mut browser).await.is_ok());

        // Tokens an RP must refuse, each with 400.
        for extra in [
            json!({"nonce": "n"}),
            json!({"events": {"http://schemas.openid.net/event/other": {}}}),
            json!({"sub": null}),
            json!({"aud": "someone-else"}),
            json!({"iss": "https://api.idmelabs.com/oidc"}),
            json!({"jti": null}),
            json!({"iat": pair.now() + 3600}),
        ] {
            let reply = pair
                .backchannel_logout(Persona::Veteran, extra.clone())
                .await;
            assert_eq!(reply.status, 400, "{extra}");
        }
        let forged = format!(
            "logout_token={}x",
            pair.emulator.logout_token(Persona::Veteran, json!({}))
        );
        let reply = pair
            .idme
            .backchannel_logout(Some("application/x-www-form-urlencoded"), forged.as_bytes())
            .await;
        assert_eq!(reply.status, 400);
        assert!(
            pair.authenticate(&mut browser).await.is_ok(),
            "refused tokens end nothing"
        );

        // Another user's logout leaves this one signed in.
        let reply = pair.backchannel_logout(Persona::Student, json!({})).await;
        assert_eq!(reply.status, 200);
        assert!(pair.authenticate(&mut browser).await.is_ok());

        let token = pair.emulator.logout_token(Persona::Veteran, json!({}));
        let body = format!("logout_token={token}");
        let deliver = || {
            pair.idme
                .backchannel_logout(Some("application/x-www-form-urlencoded"), body.as_bytes())
        };
        assert_eq!(deliver().await.status, 200);
        let denied = pair.authenticate(&mut browser).await.unwrap_err();
        assert!(
            matches!(denied.error, Error::Unauthenticated(_)),
            "store={with_store}: {:?}",
            denied.error
        );
        if with_store {
            assert!(store.is_empty());
        }
        // Replaying the same token is refused.
        assert_eq!(deliver().await.status, 400);
    }
}

#[tokio::test]
async fn backchannel_logout_by_provider_session_id() {
    use serde_json::json;
    for with_store in [false, true] {
        let (pair, _, mut browser) = signed_in(with_store).await;
        // Another provider session: nothing ends.
        let other = json!({"sub": null, "sid": "not-this-one"});
        assert_eq!(
            pair.backchannel_logout(Persona::Veteran, other)
                .await
                .status,
            200
        );
        assert!(pair.authenticate(&mut browser).await.is_ok());
        // The session's own provider session (`sid` of the ID token, kept at login).
        let sid = pair.emulator.provider_session_id(Persona::Veteran);
        let own = json!({"sub": null, "sid": sid});
        assert_eq!(
            pair.backchannel_logout(Persona::Veteran, own).await.status,
            200
        );
        assert!(
            pair.authenticate(&mut browser).await.is_err(),
            "store={with_store}"
        );
    }
}
