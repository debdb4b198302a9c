//! Sessions that ended stay ended, in memory: a logout racing a refresh, a back-channel
//! logout whose first delivery met a store failure, a logout token naming a provider
//! session the app does not know; and sessions never cross to another issuer or client.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use idme_core::async_trait;
use idme_core::session::store::{LockingStore, Record, SessionIndex, SessionStore, StoreError};
use idme_core::{CookieKeys, Environment, MemoryStore};
use idme_testkit::pair::Pair;
use idme_testkit::{Fault, Persona};
use serde_json::json;

const KEY: [u8; 32] = [0x3c; 32];
const SESSION: &str = "__Host-idme_session";

fn keys() -> CookieKeys {
    CookieKeys::from_masters([KEY]).unwrap()
}

/// Waits (bounded) until the emulator's token endpoint has seen more than `count` calls:
/// the refresh has reached the provider, where it is held.
async fn until_token_calls_exceed(pair: &Pair, count: u64) {
    let start = Instant::now();
    while pair.emulator.stats().token <= count {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the refresh never reached the provider"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_logout_during_a_refresh_stays_a_logout() {
    for with_store in [true, false] {
        let store = Arc::new(MemoryStore::new());
        let pair = Pair::new({
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
        let browser = pair.sign_in().await;
        assert_eq!(store.len(), usize::from(with_store));
        let cookies = browser.cookies();

        // The refresh waits at the provider; the user logs out meanwhile.
        pair.emulator
            .set_faults([Fault::SlowToken(Duration::from_millis(800))]);
        let before = pair.emulator.stats().token;
        let refreshing = tokio::spawn({
            let (idme, cookies) = (pair.idme.clone(), cookies.clone());
            async move { idme.authenticate(&cookies).await }
        });
        until_token_calls_exceed(&pair, before).await;
        let out = pair.idme.logout(&cookies, None, Some("same-origin")).await;
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
        pair.emulator.clear_faults();
        assert!(pair.idme.authenticate(&cookies).await.is_err());
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
}

#[async_trait]
impl SessionIndex for FailsOnce {
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

#[async_trait]
impl LockingStore for FailsOnce {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.inner.lock(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.inner.release(key, owner).await
    }
}

#[tokio::test]
async fn a_backchannel_logout_retried_after_a_store_failure_is_honoured() {
    let store = Arc::new(FailsOnce::default());
    let pair = Pair::new({
        let store = store.clone();
        move |b| b.session_store(store)
    })
    .await;
    let mut browser = pair.sign_in().await;
    let token = pair.emulator.logout_token(Persona::Veteran, json!({}));
    let body = format!("logout_token={token}");
    let deliver = || {
        pair.idme
            .backchannel_logout(Some("application/x-www-form-urlencoded"), body.as_bytes())
    };

    let first = deliver().await.status;
    assert_eq!(first, 503, "the store failed: the provider should retry");
    assert!(pair.authenticate(&mut browser).await.is_ok());

    let retry = deliver().await.status;
    assert_eq!(retry, 200, "the retry of the same token is not a replay");
    assert!(store.inner.is_empty());
    assert!(pair.authenticate(&mut browser).await.is_err());

    let replay = deliver().await.status;
    assert_eq!(replay, 400, "a replay after success is still refused");
}

#[tokio::test]
async fn a_logout_token_with_an_unknown_sid_and_a_sub_ends_the_users_sessions() {
    let store = Arc::new(MemoryStore::new());
    let pair = Pair::new({
        let store = store.clone();
        move |b| b.session_store(store)
    })
    .await;
    let mut browser = pair.sign_in().await;
    // The sid alone names nobody here: nothing ends.
    let sid_only = json!({"sub": null, "sid": "a-session-this-app-never-saw"});
    let reply = pair.backchannel_logout(Persona::Veteran, sid_only).await;
    assert_eq!(reply.status, 200);
    assert!(pair.authenticate(&mut browser).await.is_ok());
    // With the user's sub beside it, the user's sessions end.
    let both = json!({"sid": "a-session-this-app-never-saw"});
    let reply = pair.backchannel_logout(Persona::Veteran, both).await;
    assert_eq!(reply.status, 200);
    assert!(store.is_empty());
    assert!(pair.authenticate(&mut browser).await.is_err());
}

/// An engine with the same keys as the pair's, for another issuer or client.
fn engine_for(pair: &Pair, issuer: &str, client_id: &str, store: Option<Arc<MemoryStore>>) -> Pair {
    let issuer = issuer.to_owned();
    let client_id = client_id.to_owned();
    pair.second(move |b| {
        let b = b
            .environment(Environment::from_issuer(&issuer))
            .client_id(client_id)
            .client_secret("production-secret")
            .cookie_keys(keys());
        match store {
            Some(store) => b.session_store(store),
            None => b,
        }
    })
    .unwrap()
}

#[tokio::test]
async fn a_session_signed_in_at_the_emulator_does_not_open_in_production() {
    for with_store in [false, true] {
        let store = Arc::new(MemoryStore::new());
        let pair = Pair::new({
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
        let browser = pair.sign_in().await;
        let shared = with_store.then(|| store.clone());

        let twin = engine_for(
            &pair,
            &pair.emulator.issuer(),
            pair.emulator.client_id(),
            shared.clone(),
        );
        assert!(
            twin.idme.authenticate(&browser.cookies()).await.is_ok(),
            "control"
        );

        // Production, same keys (and the same store): an app serving real users.
        let production = engine_for(
            &pair,
            "https://api.id.me/oidc",
            pair.emulator.client_id(),
            shared.clone(),
        );
        let denied = production
            .idme
            .authenticate(&browser.cookies())
            .await
            .unwrap_err();
        assert!(!denied.is_unavailable(), "store={with_store}");
        assert_eq!(
            denied.error.status().as_u16(),
            401,
            "store={with_store}: {:?}",
            denied.error
        );

        // Another client at the same issuer, same keys: refused too.
        let other_client = engine_for(&pair, &pair.emulator.issuer(), "another-client", shared);
        let denied = other_client
            .idme
            .authenticate(&browser.cookies())
            .await
            .unwrap_err();
        assert!(!denied.is_unavailable());
    }
}
