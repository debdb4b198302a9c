//! The store on a Redis Cluster (three masters, three replicas) and behind Sentinel, each
//! started by the test: the shared suite, records and their indexes on different nodes,
//! two engines sharing the cluster, and a failover under load.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use idme_core::session::store::{Record, SessionIndex, SessionStore};
use idme_session_redis::RedisStore;
use idme_testkit::{RedisCluster, RedisSentinel};

use super::store::Served;

/// The cluster the tests running at the same time share (each under its own prefix); it
/// stops when the last of them ends.
fn shared_cluster() -> Arc<RedisCluster> {
    static CLUSTER: Mutex<Weak<RedisCluster>> = Mutex::new(Weak::new());
    let mut slot = CLUSTER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(cluster) = slot.upgrade() {
        return cluster;
    }
    let cluster = Arc::new(RedisCluster::start());
    *slot = Arc::downgrade(&cluster);
    cluster
}

async fn on_cluster() -> Served<Arc<RedisCluster>> {
    let cluster = tokio::task::spawn_blocking(shared_cluster).await.unwrap();
    let prefix = format!("t{}:", rand_suffix());
    let store = RedisStore::connect(&cluster.url())
        .await
        .unwrap()
        .with_prefix(prefix);
    Served {
        _server: cluster,
        store,
    }
}

async fn on_sentinel() -> Served<RedisSentinel> {
    let sentinel = tokio::task::spawn_blocking(RedisSentinel::start)
        .await
        .unwrap();
    let store = RedisStore::connect(&sentinel.url()).await.unwrap();
    Served {
        _server: sentinel,
        store,
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

mod cluster {
    use super::*;

    idme_core::store_tests!(on_cluster().await, locks);

    #[tokio::test]
    async fn a_person_s_sessions_on_several_nodes_end_together() {
        let served = on_cluster().await;
        let store = &served.store;
        // Enough sessions that their keys fall in every master's slots.
        for i in 0..24 {
            let record = Record::new(
                format!("sess-{i}"),
                "alice",
                Some(format!("psid-{}", i % 2)),
                now() + 600,
                "sealed",
            );
            store.save(&record).await.unwrap();
        }
        store
            .save(&Record::new("bobs", "bob", None, now() + 600, "sealed"))
            .await
            .unwrap();
        let mut updated = Record::new(
            "sess-3",
            "alice",
            Some("psid-1".into()),
            now() + 900,
            "resealed",
        );
        assert!(store.update(&updated).await.unwrap());
        assert_eq!(store.load("sess-3").await.unwrap(), Some(updated.clone()));
        assert_eq!(store.delete_by_provider_sid("psid-0").await.unwrap(), 12);
        assert_eq!(store.delete_by_sub("alice").await.unwrap(), 12);
        for i in 0..24 {
            assert_eq!(
                store.load(&format!("sess-{i}")).await.unwrap(),
                None,
                "sess-{i}"
            );
        }
        // An update after the deletion re-creates nothing.
        updated.expires_at += 60;
        assert!(!store.update(&updated).await.unwrap());
        assert_eq!(store.load("sess-3").await.unwrap(), None);
        assert!(
            store.load("bobs").await.unwrap().is_some(),
            "another person's session stays"
        );
    }
}

mod sentinel {
    use super::*;

    idme_core::store_tests!(on_sentinel().await, locks);

    /// The master is killed while requests keep coming: they fail only during the
    /// failover, then the store serves from the promoted replica without a restart, and
    /// the sessions written more than a second before are there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failover_under_load_loses_no_replicated_session() {
        let mut served = on_sentinel().await;
        let store = RedisStore::connect_with(&served._server.url(), Duration::from_millis(500))
            .await
            .unwrap();
        let records: Vec<Record> = (0..50)
            .map(|i| Record::new(format!("kept-{i}"), "carol", None, now() + 600, "sealed"))
            .collect();
        for record in &records {
            store.save(record).await.unwrap();
        }
        // Replicated: written more than a second before the failover.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let old_master = served._server.master_port();

        let load = {
            let store = store.clone();
            tokio::spawn(async move {
                let (mut ok, mut failed, mut i) = (0u32, 0u32, 0u32);
                let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
                // Until 50 requests in a row succeed after at least one failed.
                let mut streak = 0;
                while tokio::time::Instant::now() < deadline && !(failed > 0 && streak >= 50) {
                    i += 1;
                    let r = Record::new(format!("load-{i}"), "dave", None, now() + 600, "sealed");
                    match store.save(&r).await {
                        Ok(()) => {
                            ok += 1;
                            streak += 1;
                        }
                        Err(_) => {
                            failed += 1;
                            streak = 0;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                (ok, failed, streak)
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        served._server.kill_master();
        tokio::task::block_in_place(|| served._server.wait_for_failover());
        let (ok, failed, streak) = load.await.unwrap();
        assert!(failed > 0, "the kill was noticed");
        assert!(
            streak >= 50,
            "full service after the failover ({ok} ok, {failed} failed)"
        );
        assert_ne!(served._server.master_port(), old_master);
        for record in &records {
            assert_eq!(
                store.load(&record.id).await.unwrap().as_ref(),
                Some(record),
                "{}",
                record.id
            );
        }
        // The other handle (never used during the failover) finds the new master too.
        assert_eq!(
            served.store.load("kept-0").await.unwrap().as_ref(),
            Some(&records[0])
        );
    }
}
