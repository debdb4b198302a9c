//! The device grant under concurrency, on a store that yields at every call (so tasks
//! interleave at each round trip as against Redis): a device code yields tokens once,
//! and a poll landing with the person's decision never loses it.

use super::common;

use std::time::Duration;

use common::apps::*;
use idme_apps::AppServer;
use idme_core::session::store::{Record, SessionIndex, StoreError};
use idme_core::{LockingStore, SessionStore};
use idme_testkit::Persona;

/// A memory store that yields before every call, so concurrent polls interleave at
/// each store round trip as they would against Redis.
#[derive(Debug, Default)]
struct YieldingStore(idme_core::MemoryStore);

#[idme_core::async_trait]
impl SessionStore for YieldingStore {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        tokio::task::yield_now().await;
        self.0.load(id).await
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.0.save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        tokio::task::yield_now().await;
        self.0.update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.0.delete(id).await
    }
}

#[idme_core::async_trait]
impl SessionIndex for YieldingStore {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.0.delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.0.delete_by_provider_sid(sid).await
    }
}

#[idme_core::async_trait]
impl LockingStore for YieldingStore {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        tokio::task::yield_now().await;
        self.0.lock(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.0.release(key, owner).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approved_device_code_yields_tokens_exactly_once_under_fifty_concurrent_polls() {
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(YieldingStore::default()),
        |b| b,
    )
    .await;
    let codes = device_code(&pair, DEVICE, None).await;
    let dc = codes["device_code"].as_str().unwrap().to_owned();
    let mut browser = pair.sign_in().await;
    let confirm = page_for(&pair, &mut browser, codes["user_code"].as_str().unwrap()).await;
    assert_eq!(
        decide(&pair, &mut browser, &confirm, "allow").await.status,
        200
    );
    pair.advance(Duration::from_secs(5));
    let polls = (0..50).map(|_| {
        let (pair, dc) = (pair.clone(), dc.clone());
        tokio::spawn(async move { poll(&pair, DEVICE, &dc).await })
    });
    let replies: Vec<_> = futures_join(polls).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "exactly one poll gets the tokens");
    for r in replies.iter().filter(|r| r.status != 200) {
        let (_, code) = error(r);
        assert!(
            ["invalid_grant", "slow_down"].contains(&code.as_str()),
            "{code}"
        );
    }
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.expect("the poll task"));
    }
    out
}

#[tokio::test]
async fn a_poll_landing_with_the_decision_never_loses_it() {
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(YieldingStore::default()),
        |b| b,
    )
    .await;
    let mut browser = pair.sign_in().await;
    // The poll starts a few store round trips after the decision, so that some round
    // lands its read before the decision's write and its own write after it.
    for head_start in 0..12 {
        let codes = device_code(&pair, DEVICE, None).await;
        let dc = codes["device_code"].as_str().unwrap();
        let confirm = page_for(&pair, &mut browser, codes["user_code"].as_str().unwrap()).await;
        let mut decider = browser.clone();
        let late_poll = async {
            for _ in 0..head_start {
                tokio::task::yield_now().await;
            }
            poll(&pair, DEVICE, dc).await
        };
        let (polled, decided) =
            tokio::join!(late_poll, decide(&pair, &mut decider, &confirm, "allow"));
        assert_eq!(decided.status, 200, "{}", decided.body);
        if polled.status == 200 {
            continue;
        }
        pair.advance(Duration::from_secs(5));
        let after = poll(&pair, DEVICE, dc).await;
        assert_eq!(
            after.status, 200,
            "round {head_start}: the approval was lost: {}",
            after.body
        );
    }
}
