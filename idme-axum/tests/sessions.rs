//! Production sessions over loopback: key rotation and shared keys, server-side stores,
//! automatic refresh (single-flight, rotation, invalid_grant, provider down), a store that
//! is down, and OIDC back-channel logout.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Rig, SESSION};
use idme_core::async_trait;
use idme_core::session::store::{Record, SessionStore, StoreError};
use idme_core::{CookieKeys, Environment, Idme, IdmeBuilder, MemoryStore, RequestCookies};
use idme_testkit::browser::Browser;
use idme_testkit::{Fault, Persona};
use serde_json::json;

const KEY_A: [u8; 32] = [0xa1; 32];
const KEY_B: [u8; 32] = [0xb2; 32];

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

/// Another engine against the rig's emulator, configured by `configure`.
fn second_engine(rig: &Rig, configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder) -> Idme {
    let builder = IdmeBuilder::new()
        .environment(Environment::Custom(rig.emulator.issuer()))
        .client_id(rig.emulator.client_id())
        .client_secret(rig.emulator.client_secret())
        .redirect_uri(rig.url("/auth/callback"));
    Idme::new(configure(builder).build().unwrap())
}

#[tokio::test]
async fn rotated_keys_keep_sessions_and_shared_keys_share_them() {
    let rig = Rig::with(|b| b.cookie_keys(CookieKeys::from_masters([KEY_A]).unwrap())).await;
    let browser = Browser::new();
    rig.sign_in(&browser, "/me").await;
    let cookies = cookies_of(&browser);

    // Another instance with the same keys opens the session.
    let twin = second_engine(&rig, |b| {
        b.cookie_keys(CookieKeys::from_masters([KEY_A]).unwrap())
    });
    let user = twin.authenticate(&cookies).await.unwrap().user;
    assert_eq!(user.sub(), Persona::Veteran.sub());

    // After rotation (new key first, old one still listed) the session survives...
    let rotated = second_engine(&rig, |b| {
        b.cookie_keys(CookieKeys::from_masters([KEY_B, KEY_A]).unwrap())
    });
    assert!(rotated.authenticate(&cookies).await.is_ok());
    // ...and once the old key is retired it is refused cleanly, its cookie cleared.
    let retired = second_engine(&rig, |b| {
        b.cookie_keys(CookieKeys::from_masters([KEY_B]).unwrap())
    });
    let denied = retired.authenticate(&cookies).await.unwrap_err();
    assert!(!denied.is_unavailable());
    assert!(
        denied
            .set_cookies
            .iter()
            .any(|c| c.name == SESSION && c.max_age == 0)
    );
}

#[tokio::test]
async fn a_server_side_store_keeps_only_an_id_in_the_cookie_and_logout_ends_it_everywhere() {
    let store = Arc::new(MemoryStore::new());
    let keys = || CookieKeys::from_masters([KEY_A]).unwrap();
    let rig = Rig::with({
        let store = store.clone();
        // Read the store on every request: the logout below takes effect at once.
        move |b| {
            b.cookie_keys(keys())
                .session_store(store)
                .session_store_cache(Duration::ZERO)
        }
    })
    .await;
    let browser = Browser::api_client();
    rig.sign_in(&browser, "/me").await;
    assert_eq!(store.len(), 1);
    let cookie = browser.cookie(SESSION).unwrap();
    assert!(
        cookie.len() < 200,
        "only a sealed id: {} bytes",
        cookie.len()
    );
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 200, "{}", me.body);

    // A second instance sharing the store and keys sees the session, and logs it out.
    let other = second_engine(&rig, |b| b.cookie_keys(keys()).session_store(store.clone()));
    let cookies = cookies_of(&browser);
    assert!(other.authenticate(&cookies).await.is_ok());
    let out = other.logout(&cookies, None, Some("same-origin")).await;
    assert_eq!(out.status, 303);
    assert!(store.is_empty(), "logout deleted the stored session");
    // The first instance refuses the same cookie now.
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 401, "{}", me.body);
    assert!(
        me.set_cookie(SESSION)
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
}

/// A store that can be switched off.
#[derive(Debug, Default)]
struct Flaky {
    inner: MemoryStore,
    down: AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new("switched off"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl SessionStore for Flaky {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.check()?;
        self.inner.load(id).await
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        self.check()?;
        self.inner.save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(id).await
    }
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.delete_by_provider_sid(sid).await
    }
}

#[tokio::test]
async fn a_store_that_is_down_is_a_503_not_a_logout() {
    let store = Arc::new(Flaky::default());
    let rig = Rig::with({
        let store = store.clone();
        // Read the store on every request: the outage is met at once.
        move |b| b.session_store(store).session_store_cache(Duration::ZERO)
    })
    .await;
    let browser = Browser::api_client();
    rig.sign_in(&browser, "/me").await;
    store.down.store(true, Ordering::SeqCst);
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 503, "{}", me.body);
    assert_eq!(me.json()["message"], "Sessions are temporarily unavailable");
    assert!(me.set_cookie(SESSION).is_none(), "the session is kept");
    // Optional sign-in answers 503 too rather than pretending nobody is signed in.
    let home = browser.get(&rig.url("/")).await;
    assert_eq!(home.status, 503);
    store.down.store(false, Ordering::SeqCst);
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 200, "recovers: {}", me.body);
}

/// Where refresh tests land after signing in: a page that does not look at the session
/// (so the first refresh happens where the test wants it).
const LANDING: &str = "/landing";

/// A rig whose sessions refresh on every request (the emulator's access tokens live 300 s).
async fn refreshing_rig() -> Rig {
    Rig::with(|b| {
        b.refresh_margin(Duration::from_secs(400))
            .cookie_keys(CookieKeys::from_masters([KEY_A]).unwrap())
    })
    .await
}

#[tokio::test]
async fn concurrent_requests_on_an_expiring_session_refresh_exactly_once() {
    let rig = refreshing_rig().await;
    let browser = Browser::api_client();
    rig.sign_in(&browser, LANDING).await;
    let old = browser.cookie(SESSION).unwrap();
    let before = rig.emulator.stats().token;

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let url = rig.url("/me");
        let old = old.clone();
        tasks.spawn(async move {
            let b = Browser::api_client();
            b.put_cookie(SESSION, &old, "/");
            let page = b.get(&url).await;
            (page.status, page.set_cookie(SESSION))
        });
    }
    let mut renewed = 0;
    while let Some(done) = tasks.join_next().await {
        let (status, set) = done.unwrap();
        assert_eq!(status, 200);
        if set.is_some_and(|c| !c.contains("Max-Age=0")) {
            renewed += 1;
        }
    }
    assert_eq!(
        rig.emulator.stats().token,
        before + 1,
        "one token call for 100 requests"
    );
    assert_eq!(renewed, 100, "every response carries the refreshed session");

    // A request still carrying the old cookie within the grace period reuses the outcome.
    let page = browser.get(&rig.url("/me")).await;
    assert_eq!(page.status, 200);
    let refreshed = browser.cookie(SESSION).unwrap();
    assert_ne!(refreshed, old);
    // The refreshed session is not refreshed again within the grace period...
    let page = browser.get(&rig.url("/me")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(rig.emulator.stats().token, before + 1);
    // ...and its rotated refresh token was kept: another instance (same keys, no shared
    // memory) refreshes with it.
    let twin = second_engine(&rig, |b| {
        b.cookie_keys(CookieKeys::from_masters([KEY_A]).unwrap())
            .refresh_margin(Duration::from_secs(400))
    });
    let again = twin.authenticate(&cookies_of(&browser)).await.unwrap();
    assert!(again.set_cookies.iter().any(|c| c.name == SESSION));
    assert_eq!(rig.emulator.stats().token, before + 2);
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session() {
    let rig = refreshing_rig().await;
    let browser = Browser::new();
    rig.sign_in(&browser, LANDING).await;
    let api = Browser::api_client();
    api.put_cookie(SESSION, &browser.cookie(SESSION).unwrap(), "/");
    rig.emulator.set_faults([Fault::TokenError {
        status: 400,
        body: r#"{"error":"invalid_grant","error_description":"revoked"}"#.into(),
    }]);
    let me = api.get(&rig.url("/me")).await;
    assert_eq!(me.status, 401, "{}", me.body);
    assert!(
        me.set_cookie(SESSION)
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    // The browser (same session) is sent to sign in, its cookie cleared.
    rig.emulator.clear_faults();
    let page = browser.get(&rig.url("/me")).await;
    assert_eq!(page.status, 303);
    assert!(
        page.location()
            .unwrap()
            .as_str()
            .contains("/auth/login?return_to=%2Fme")
    );
    assert!(browser.cookie(SESSION).is_none());
}

#[tokio::test]
async fn a_provider_down_during_refresh_keeps_the_session() {
    let rig = refreshing_rig().await;
    let browser = Browser::api_client();
    rig.sign_in(&browser, LANDING).await;
    let old = browser.cookie(SESSION).unwrap();
    rig.emulator.set_faults([Fault::TokenError {
        status: 503,
        body: "maintenance".into(),
    }]);
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert!(me.set_cookie(SESSION).is_none(), "session untouched");
    assert_eq!(browser.cookie(SESSION).unwrap(), old);
}

#[tokio::test]
async fn large_sessions_are_chunked_and_a_tampered_chunk_is_no_session() {
    let rig = Rig::new().await;
    let browser = Browser::api_client();
    rig.sign_in(&browser, "/me").await;
    // Re-seal the session with a very large claim, as an engine with the same keys would
    // after a sign-in asking for many attributes.
    let cookies = cookies_of(&browser);
    // Text that does not compress (the session is deflated before it is sealed): 12,000
    // hex digits of hashes.
    let hasher = std::collections::hash_map::RandomState::new();
    let bio: String = (0u64..750)
        .map(|i| format!("{:016x}", std::hash::BuildHasher::hash_one(&hasher, i)))
        .collect();
    let big = rig
        .idme
        .__reseal_with_claim(&cookies, "bio", &bio)
        .expect("session opens");
    assert!(big.len() >= 3, "chunked into {} cookies", big.len());
    for c in &big {
        assert!(c.header_value().len() <= 4096);
        browser.put_cookie(&c.name, &c.value, "/");
    }
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["claims"]["bio"].as_str().unwrap(), bio);

    // Tamper with the middle of chunk 1.
    let mut chunk = browser.cookie(&format!("{SESSION}.1")).unwrap();
    let mid = chunk.len() / 2;
    let flip = if &chunk[mid..=mid] == "A" { "B" } else { "A" };
    chunk.replace_range(mid..=mid, flip);
    browser.put_cookie(&format!("{SESSION}.1"), &chunk, "/");
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 401, "{}", me.body);
    // Every chunk is cleared.
    let cleared: Vec<String> = me
        .set_cookies()
        .into_iter()
        .filter(|c| c.contains("Max-Age=0"))
        .collect();
    assert_eq!(cleared.len(), big.len(), "{cleared:?}");
}

#[tokio::test]
async fn backchannel_logout_ends_the_users_sessions() {
    for with_store in [false, true] {
        let store = Arc::new(MemoryStore::new());
        let rig = Rig::with({
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
        let browser = Browser::api_client();
        rig.sign_in(&browser, "/me").await;
        assert_eq!(browser.get(&rig.url("/me")).await.status, 200);
        let url = rig.url("/auth/backchannel-logout");

        // Tokens an RP must refuse, each with 400.
        for extra in [
            json!({"nonce": "n"}),
            json!({"events": {"http://schemas.openid.net/event/other": {}}}),
            json!({"sub": null}),
            json!({"aud": "someone-else"}),
            json!({"iss": "https://api.idmelabs.com/oidc"}),
            json!({"jti": null}),
            json!({"iat": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600}),
        ] {
            let token = rig.emulator.logout_token(Persona::Veteran, extra.clone());
            let status = rig.emulator.post_logout_token(&url, &token).await.unwrap();
            assert_eq!(status, 400, "{extra}");
        }
        let forged = format!(
            "{}x",
            rig.emulator.logout_token(Persona::Veteran, json!({}))
        );
        assert_eq!(
            rig.emulator.post_logout_token(&url, &forged).await.unwrap(),
            400
        );
        assert_eq!(
            browser.get(&rig.url("/me")).await.status,
            200,
            "refused tokens end nothing"
        );

        // Another user's logout leaves this one signed in.
        let token = rig.emulator.logout_token(Persona::Student, json!({}));
        assert_eq!(
            rig.emulator.post_logout_token(&url, &token).await.unwrap(),
            200
        );
        assert_eq!(browser.get(&rig.url("/me")).await.status, 200);

        let token = rig.emulator.logout_token(Persona::Veteran, json!({}));
        assert_eq!(
            rig.emulator.post_logout_token(&url, &token).await.unwrap(),
            200
        );
        let me = browser.get(&rig.url("/me")).await;
        assert_eq!(me.status, 401, "store={with_store}: {}", me.body);
        assert_eq!(me.json()["error"], "unauthenticated");
        if with_store {
            assert!(store.is_empty());
        }
        // Replaying the same token is refused.
        assert_eq!(
            rig.emulator.post_logout_token(&url, &token).await.unwrap(),
            400
        );
    }
}

#[tokio::test]
async fn backchannel_logout_by_provider_session_id() {
    for with_store in [false, true] {
        let store = Arc::new(MemoryStore::new());
        let rig = Rig::with({
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
        let browser = Browser::api_client();
        rig.sign_in(&browser, "/me").await;
        let url = rig.url("/auth/backchannel-logout");
        // Another provider session: nothing ends.
        let other = rig.emulator.logout_token(
            Persona::Veteran,
            json!({"sub": null, "sid": "not-this-one"}),
        );
        assert_eq!(
            rig.emulator.post_logout_token(&url, &other).await.unwrap(),
            200
        );
        assert_eq!(browser.get(&rig.url("/me")).await.status, 200);
        // The session's own provider session (`sid` of the ID token, kept at login).
        let sid = rig.emulator.provider_session_id(Persona::Veteran);
        let token = rig
            .emulator
            .logout_token(Persona::Veteran, json!({"sub": null, "sid": sid}));
        assert_eq!(
            rig.emulator.post_logout_token(&url, &token).await.unwrap(),
            200
        );
        let me = browser.get(&rig.url("/me")).await;
        assert_eq!(me.status, 401, "store={with_store}: {}", me.body);
    }
}
