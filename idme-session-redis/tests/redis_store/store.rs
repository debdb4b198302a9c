//! The shared store suite against a real `redis-server` (one per test), plus outages.

use std::time::Duration;

use idme_core::async_trait;
use idme_core::session::store::{LockingStore, Record, SessionIndex, SessionStore, StoreError};
use idme_session_redis::RedisStore;
use idme_testkit::RedisServer;

/// A store with its own server (or a share of a cluster's), stopped when the test ends.
#[derive(Debug)]
pub(crate) struct Served<S: std::fmt::Debug + Send + Sync + 'static = RedisServer> {
    pub(crate) _server: S,
    pub(crate) store: RedisStore,
}

#[async_trait]
impl<S: std::fmt::Debug + Send + Sync + 'static> SessionStore for Served<S> {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.store.load(id).await
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        self.store.save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        self.store.update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete(id).await
    }
}

#[async_trait]
impl<S: std::fmt::Debug + Send + Sync + 'static> SessionIndex for Served<S> {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.store.delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.store.delete_by_provider_sid(sid).await
    }
}

#[async_trait]
impl<S: std::fmt::Debug + Send + Sync + 'static> LockingStore for Served<S> {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.store.lock(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.store.release(key, owner).await
    }
}

async fn served() -> Served {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    Served {
        _server: server,
        store,
    }
}

idme_core::store_tests!(served().await, locks);

#[tokio::test]
async fn an_outage_is_an_error_and_recovers() {
    let mut server = RedisServer::start();
    let store = RedisStore::connect_with(&server.url(), Duration::from_millis(500))
        .await
        .unwrap();
    let record = Record::new("outage", "sub", None, __now() + 600, "sealed");
    store.save(&record).await.unwrap();
    server.stop();
    let err = store.load("outage").await.unwrap_err();
    assert!(err.to_string().contains("redis"), "{err}");
    server.restart();
    // The connection manager reconnects by itself; the restarted server is empty.
    let mut recovered = None;
    for _ in 0..50 {
        if let Ok(r) = store.load("outage").await {
            recovered = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recovered, Some(None), "recovers once Redis is back");
    store.save(&record).await.unwrap();
    assert_eq!(store.load("outage").await.unwrap(), Some(record));
}

#[tokio::test]
async fn prefixes_separate_apps() {
    let server = RedisServer::start();
    let a = RedisStore::connect(&server.url()).await.unwrap();
    let b = a.clone().with_prefix("other:");
    let record = Record::new(
        "shared-id",
        "sub",
        Some("psid".into()),
        __now() + 600,
        "sealed",
    );
    a.save(&record).await.unwrap();
    assert_eq!(b.load("shared-id").await.unwrap(), None);
    assert_eq!(b.delete_by_sub("sub").await.unwrap(), 0);
    assert_eq!(a.delete_by_provider_sid("psid").await.unwrap(), 1);
}

#[tokio::test]
async fn the_first_call_after_an_unnoticed_restart_succeeds() {
    let mut server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    assert_eq!(store.load("x").await.unwrap(), None);
    // Redis restarts while the store is idle: its connection is dead but it does not know.
    server.restart();
    assert_eq!(store.load("x").await.unwrap(), None);
}
