//! Sessions that ended stay ended: a logout racing a refresh, a back-channel logout whose
//! first delivery met a store failure, a logout token naming a provider session the app
//! does not know; and sessions never cross to another issuer or client.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Rig, SESSION};
use idme_core::async_trait;
use idme_core::session::store::{Record, SessionStore, StoreError};
use idme_core::{CookieKeys, Environment, Idme, IdmeBuilder, MemoryStore, RequestCookies};
use idme_testkit::browser::Browser;
use idme_testkit::{Fault, Persona};
use serde_json::json;

const KEY: [u8; 32] = [0x3c; 32];

fn keys() -> CookieKeys {
    CookieKeys::from_masters([KEY]).unwrap()
}

/// The request cookies a browser would send.
fn cookies_of(browser: &Browser) -> RequestCookies {
    let header = browser
        .cookies()
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    RequestCookies::from_header_values([header.as_str()])
}

/// Waits (bounded) until the emulator's token endpoint has seen more than `count` calls.
async fn until_token_calls_exceed(rig: &Rig, count: u64) {
    let start = Instant::now();
    while rig.emulator.stats().token <= count {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the refresh never reached the provider"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_logout_during_a_refresh_stays_a_logout() {
    for with_store in [true, false] {
        let store = Arc::new(MemoryStore::new());
        let rig = Rig::with({
            let store = store.clone();
            move |b| {
                let b = b
                    .refresh_margin(Duration::from_secs(400))
                    .cookie_keys(keys());
                if with_store {
                    b.session_store(store)
                } else {
                    b
                }
            }
        })
        .await;
        let browser = Browser::api_client();
        rig.sign_in(&browser, "/landing").await;
        assert_eq!(store.len(), usize::from(with_store));
        let cookies = cookies_of(&browser);

        // The refresh waits at the provider; the user logs out meanwhile.
        rig.emulator
            .set_faults([Fault::SlowToken(Duration::from_millis(1500))]);
        let before = rig.emulator.stats().token;
        let refreshing = tokio::spawn({
            let (idme, cookies) = (rig.idme.clone(), cookies.clone());
            async move { idme.authenticate(&cookies).await }
        });
        until_token_calls_exceed(&rig, before).await;
        let out = rig.idme.logout(&cookies, None, Some("same-origin")).await;
        assert_eq!(out.status, 303);
        assert!(store.is_empty(), "logout deleted the session");

        let denied = refreshing
            .await
            .unwrap()
            .expect_err("a refresh finishing after the logout must not bring the session back");
        assert!(!denied.is_unavailable());
        assert!(
            denied
                .set_cookies
                .iter()
                .any(|c| c.name == SESSION && c.max_age == 0),
            "store={with_store}: the dead session's cookie is cleared"
        );
        assert!(store.is_empty(), "no record was re-created");
        rig.emulator.clear_faults();
        assert!(rig.idme.authenticate(&cookies).await.is_err());
    }
}

/// A store whose first deletion (by user or by provider session) fails.
#[derive(Debug, Default)]
struct FailsOnce {
    inner: MemoryStore,
    deletions: AtomicUsize,
}

impl FailsOnce {
    fn first(&self) -> bool {
        self.deletions.fetch_add(1, Ordering::SeqCst) == 0
    }
}

fn fail<T>() -> Result<T, StoreError> {
    Err(StoreError::new("first deletion fails"))
}

#[async_trait]
impl SessionStore for FailsOnce {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.inner.load(id).await
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        self.inner.save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        self.inner.update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.inner.delete(id).await
    }
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        if self.first() {
            return fail();
        }
        self.inner.delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        if self.first() {
            return fail();
        }
        self.inner.delete_by_provider_sid(sid).await
    }
}

#[tokio::test]
async fn a_backchannel_logout_retried_after_a_store_failure_is_honoured() {
    let store = Arc::new(FailsOnce::default());
    let rig = Rig::with({
        let store = store.clone();
        move |b| b.session_store(store)
    })
    .await;
    let browser = Browser::api_client();
    rig.sign_in(&browser, "/me").await;
    let url = rig.url("/auth/backchannel-logout");
    let token = rig.emulator.logout_token(Persona::Veteran, json!({}));

    let first = rig.emulator.post_logout_token(&url, &token).await.unwrap();
    assert_eq!(first, 503, "the store failed: the provider should retry");
    assert_eq!(browser.get(&rig.url("/me")).await.status, 200);

    let retry = rig.emulator.post_logout_token(&url, &token).await.unwrap();
    assert_eq!(retry, 200, "the retry of the same token is not a replay");
    assert!(store.inner.is_empty());
    assert_eq!(browser.get(&rig.url("/me")).await.status, 401);

    let replay = rig.emulator.post_logout_token(&url, &token).await.unwrap();
    assert_eq!(replay, 400, "a replay after success is still refused");
}

#[tokio::test]
async fn a_logout_token_with_an_unknown_sid_and_a_sub_ends_the_users_sessions() {
    let store = Arc::new(MemoryStore::new());
    let rig = Rig::with({
        let store = store.clone();
        move |b| b.session_store(store)
    })
    .await;
    let browser = Browser::api_client();
    rig.sign_in(&browser, "/me").await;
    let url = rig.url("/auth/backchannel-logout");
    // The sid alone names nobody here: nothing ends.
    let sid_only = rig.emulator.logout_token(
        Persona::Veteran,
        json!({"sub": null, "sid": "a-session-this-app-never-saw"}),
    );
    assert_eq!(
        rig.emulator
            .post_logout_token(&url, &sid_only)
            .await
            .unwrap(),
        200
    );
    assert_eq!(browser.get(&rig.url("/me")).await.status, 200);
    // With the user's sub beside it, the user's sessions end.
    let both = rig.emulator.logout_token(
        Persona::Veteran,
        json!({"sid": "a-session-this-app-never-saw"}),
    );
    assert_eq!(
        rig.emulator.post_logout_token(&url, &both).await.unwrap(),
        200
    );
    assert!(store.is_empty());
    assert_eq!(browser.get(&rig.url("/me")).await.status, 401);
}

/// An engine with the same keys as the rig, for another issuer or client.
fn engine_for(rig: &Rig, issuer: &str, client_id: &str, store: Option<Arc<MemoryStore>>) -> Idme {
    let mut b = IdmeBuilder::new()
        .environment(Environment::from_issuer(issuer))
        .client_id(client_id)
        .client_secret("production-secret")
        .redirect_uri(rig.url("/auth/callback"))
        .cookie_keys(keys());
    if let Some(store) = store {
        b = b.session_store(store);
    }
    Idme::new(b.build().unwrap())
}

#[tokio::test]
async fn a_session_signed_in_at_the_emulator_does_not_open_in_production() {
    for with_store in [false, true] {
        let store = Arc::new(MemoryStore::new());
        let rig = Rig::with({
            let store = store.clone();
            move |b| {
                let b = b.cookie_keys(keys());
                if with_store {
                    b.session_store(store)
                } else {
                    b
                }
            }
        })
        .await;
        let browser = Browser::api_client();
        rig.sign_in(&browser, "/verified/veteran").await;
        assert_eq!(browser.get(&rig.url("/verified/veteran")).await.status, 200);
        let shared = with_store.then(|| store.clone());

        let twin = engine_for(
            &rig,
            &rig.emulator.issuer(),
            rig.emulator.client_id(),
            shared.clone(),
        );
        assert!(
            twin.authenticate(&cookies_of(&browser)).await.is_ok(),
            "control"
        );

        // Production, same keys (and the same store): an app serving real users.
        let production = engine_for(
            &rig,
            "https://api.id.me/oidc",
            rig.emulator.client_id(),
            shared.clone(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app = format!("http://{}", listener.local_addr().unwrap());
        let router = common::app_router(production);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let cookie = browser.cookie(SESSION).unwrap();
        let stranger = Browser::api_client();
        stranger.put_cookie(SESSION, &cookie, "/");
        let page = stranger.get(&format!("{app}/verified/veteran")).await;
        assert_eq!(page.status, 401, "store={with_store}: {}", page.body);
        let me = stranger.get(&format!("{app}/me")).await;
        assert_eq!(me.status, 401, "store={with_store}: {}", me.body);

        // Another client at the same issuer, same keys: refused too.
        let other_client = engine_for(&rig, &rig.emulator.issuer(), "another-client", shared);
        let denied = other_client
            .authenticate(&cookies_of(&browser))
            .await
            .unwrap_err();
        assert!(!denied.is_unavailable());
    }
}
