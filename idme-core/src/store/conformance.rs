//! The conformance suite every [`SessionStore`](super::SessionStore) runs
//! ([`store_tests!`](crate::store_tests)).

/// One conformance suite for every [`SessionStore`](crate::SessionStore): expands to `#[tokio::test]`s in the
/// calling module. `$make` is an async expression giving a fresh, empty store (a value
/// implementing [`SessionStore`](crate::SessionStore)). The caller needs `tokio` with `macros` and `rt`, and
/// `idme-core`'s `test-util` feature (a dev-dependency feature: it is test code).
///
/// A store given to the engine is a [`SharedStore`](crate::SharedStore): `, locks` runs
/// the tests of its [`LockingStore`](crate::LockingStore) too (every store should).
///
/// ```
/// // In a test module of the crate defining the store:
/// use idme_core::MemoryStore;
/// idme_core::store_tests!(MemoryStore::new());
/// # fn main() {}
/// ```
#[cfg(any(test, feature = "test-util"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
#[macro_export]
macro_rules! store_tests {
    ($make:expr, locks) => {
        $crate::store_tests!($make);

        #[tokio::test]
        async fn store_locks_are_exclusive_and_owned() {
            let store = $make;
            let ttl = ::std::time::Duration::from_secs(30);
            assert!(
                $crate::store::LockingStore::lock(&store, "lock-a", "owner-1", ttl)
                    .await
                    .unwrap()
            );
            assert!(
                !$crate::store::LockingStore::lock(&store, "lock-a", "owner-2", ttl)
                    .await
                    .unwrap(),
                "held"
            );
            assert!(
                $crate::store::LockingStore::lock(&store, "lock-b", "owner-2", ttl)
                    .await
                    .unwrap(),
                "per key"
            );
            // Only the owner releases it.
            $crate::store::LockingStore::release(&store, "lock-a", "owner-2")
                .await
                .unwrap();
            assert!(
                !$crate::store::LockingStore::lock(&store, "lock-a", "owner-2", ttl)
                    .await
                    .unwrap()
            );
            $crate::store::LockingStore::release(&store, "lock-a", "owner-1")
                .await
                .unwrap();
            assert!(
                $crate::store::LockingStore::lock(&store, "lock-a", "owner-2", ttl)
                    .await
                    .unwrap()
            );
            $crate::store::LockingStore::release(&store, "lock-a", "owner-2")
                .await
                .unwrap();
            $crate::store::LockingStore::release(&store, "lock-b", "owner-2")
                .await
                .unwrap();
        }
    };
    ($make:expr) => {
        /// The suite's clock: the system's, as a store's own expiry uses.
        fn __now() -> u64 {
            ::std::time::SystemTime::now()
                .duration_since(::std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        }

        fn __record(id: &str, sub: &str, sid: Option<&str>, ttl: u64) -> $crate::store::Record {
            $crate::store::Record::new(
                id,
                sub,
                sid.map(str::to_owned),
                __now() + ttl,
                format!("sealed-{id}"),
            )
        }

        #[tokio::test]
        async fn store_round_trips_and_deletes() {
            use $crate::store::SessionStore as _;
            let store = $make;
            assert_eq!(store.load("nope").await.unwrap(), None);
            let r = __record("id-round-trip", "sub-a", Some("psid-a"), 600);
            store.save(&r).await.unwrap();
            assert_eq!(store.load(&r.id).await.unwrap(), Some(r.clone()));
            let mut changed = r.clone();
            changed.data = "sealed-changed".into();
            store.save(&changed).await.unwrap();
            assert_eq!(store.load(&r.id).await.unwrap(), Some(changed));
            store.delete(&r.id).await.unwrap();
            assert_eq!(store.load(&r.id).await.unwrap(), None);
            store.delete(&r.id).await.unwrap();
        }

        #[tokio::test]
        async fn store_updates_only_a_live_record() {
            use $crate::store::{SessionIndex as _, SessionStore as _};
            let store = $make;
            let r = __record("id-update", "sub-update", Some("psid-update"), 600);
            // Never creates a record: a session that ended stays ended.
            assert!(!store.update(&r).await.unwrap());
            assert_eq!(store.load(&r.id).await.unwrap(), None);
            store.save(&r).await.unwrap();
            let mut changed = r.clone();
            changed.data = "sealed-updated".into();
            changed.expires_at += 60;
            assert!(store.update(&changed).await.unwrap());
            assert_eq!(store.load(&r.id).await.unwrap(), Some(changed.clone()));
            // The indexes still find it.
            assert_eq!(
                store.delete_by_provider_sid("psid-update").await.unwrap(),
                1
            );
            assert!(
                !store.update(&changed).await.unwrap(),
                "deleted: not re-created"
            );
            assert_eq!(store.load(&r.id).await.unwrap(), None);
            store.save(&r).await.unwrap();
            assert_eq!(store.delete_by_sub("sub-update").await.unwrap(), 1);
            assert!(!store.update(&changed).await.unwrap());
            assert_eq!(store.load(&r.id).await.unwrap(), None);
            store.save(&r).await.unwrap();
            store.delete(&r.id).await.unwrap();
            assert!(!store.update(&changed).await.unwrap());
            assert_eq!(store.load(&r.id).await.unwrap(), None);
        }

        #[tokio::test]
        async fn store_deletes_every_session_of_a_user() {
            use $crate::store::{SessionIndex as _, SessionStore as _};
            let store = $make;
            let a1 = __record("id-sub-a1", "sub-all-a", None, 600);
            let a2 = __record("id-sub-a2", "sub-all-a", Some("p1"), 600);
            let b = __record("id-sub-b", "sub-all-b", None, 600);
            for r in [&a1, &a2, &b] {
                store.save(r).await.unwrap();
            }
            assert_eq!(store.delete_by_sub("sub-all-a").await.unwrap(), 2);
            assert_eq!(store.load(&a1.id).await.unwrap(), None);
            assert_eq!(store.load(&a2.id).await.unwrap(), None);
            assert_eq!(store.load(&b.id).await.unwrap(), Some(b.clone()));
            assert_eq!(store.delete_by_sub("sub-all-a").await.unwrap(), 0);
        }

        #[tokio::test]
        async fn store_deletes_by_provider_session() {
            use $crate::store::{SessionIndex as _, SessionStore as _};
            let store = $make;
            let a = __record("id-psid-a", "sub-psid", Some("psid-1"), 600);
            let b = __record("id-psid-b", "sub-psid", Some("psid-2"), 600);
            store.save(&a).await.unwrap();
            store.save(&b).await.unwrap();
            assert_eq!(store.delete_by_provider_sid("psid-1").await.unwrap(), 1);
            assert_eq!(store.load(&a.id).await.unwrap(), None);
            assert_eq!(store.load(&b.id).await.unwrap(), Some(b.clone()));
        }

        #[tokio::test]
        async fn store_works_shared_across_tasks() {
            use $crate::store::SessionStore;
            // As the engine holds it: shared, type-erased, used from spawned tasks.
            let store: ::std::sync::Arc<dyn SessionStore> = ::std::sync::Arc::new($make);
            let r = __record("id-shared", "sub-shared", None, 600);
            let (task_store, task_record) = (store.clone(), r.clone());
            tokio::spawn(async move { task_store.save(&task_record).await })
                .await
                .unwrap()
                .unwrap();
            assert_eq!(store.load(&r.id).await.unwrap(), Some(r.clone()));
            store.delete(&r.id).await.unwrap();
            assert_eq!(store.load(&r.id).await.unwrap(), None);
        }

        #[tokio::test]
        async fn store_does_not_load_expired_records() {
            use $crate::store::SessionStore as _;
            let store = $make;
            let mut r = __record("id-expired", "sub-exp", None, 0);
            r.expires_at = __now().saturating_sub(1);
            // A store may refuse to save an already-expired record, or drop it on load.
            let _ = store.save(&r).await;
            assert_eq!(store.load(&r.id).await.unwrap(), None);
            // Nor does an update bring it back.
            let mut live = r.clone();
            live.expires_at = __now() + 600;
            assert!(!store.update(&live).await.unwrap());
            assert_eq!(store.load(&r.id).await.unwrap(), None);
        }
    };
}
