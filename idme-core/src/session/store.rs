//! Server-side session storage: the [`SessionStore`] trait, its [`Record`], and
//! [`MemoryStore`], an in-process store for tests and single-instance deployments.
//!
//! By default idme-rs keeps the whole session in a sealed (encrypted and authenticated)
//! cookie and needs no store. With a store (`IdmeBuilder::session_store`), the cookie holds
//! only a sealed random session id and the session lives in the store, so that:
//! - a logout on one instance ends the session on every instance sharing the store;
//! - OIDC back-channel logout can end every session of a user (`delete_by_sub`) or of a
//!   provider session (`delete_by_provider_sid`).
//!
//! A session changed after sign-in (refreshed tokens, last-seen time) is written back with
//! [`SessionStore::update`], which only replaces a record that still exists: a logout
//! that lands while a request holds the session is never undone.
//!
//! A store never sees a token in clear: [`Record::data`] is the session sealed with the
//! cookie keys and bound to the record's id. The store only indexes and expires records.
//!
//! A store is simple to write; this is the in-memory one, in full:
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Mutex;
//! use idme_core::session::store::{Record, SessionStore, StoreError, StoreFuture};
//!
//! #[derive(Debug, Default)]
//! struct MyStore(Mutex<HashMap<String, Record>>);
//!
//! impl SessionStore for MyStore {
//!     fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Record>> {
//!         let found = self.0.lock().unwrap().get(id).cloned();
//!         Box::pin(async move { Ok(found) })
//!     }
//!     fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, ()> {
//!         self.0.lock().unwrap().insert(record.id.clone(), record.clone());
//!         Box::pin(async { Ok(()) })
//!     }
//!     fn update<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, bool> {
//!         // Check and replace under one lock: only a record that is still there.
//!         let mut map = self.0.lock().unwrap();
//!         let found = map.get_mut(&record.id).map(|r| *r = record.clone()).is_some();
//!         Box::pin(async move { Ok(found) })
//!     }
//!     fn delete<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
//!         self.0.lock().unwrap().remove(id);
//!         Box::pin(async { Ok(()) })
//!     }
//!     fn delete_by_sub<'a>(&'a self, sub: &'a str) -> StoreFuture<'a, u64> {
//!         let mut map = self.0.lock().unwrap();
//!         let before = map.len();
//!         map.retain(|_, r| r.sub != sub);
//!         let n = (before - map.len()) as u64;
//!         Box::pin(async move { Ok(n) })
//!     }
//!     fn delete_by_provider_sid<'a>(&'a self, sid: &'a str) -> StoreFuture<'a, u64> {
//!         let mut map = self.0.lock().unwrap();
//!         let before = map.len();
//!         map.retain(|_, r| r.provider_sid.as_deref() != Some(sid));
//!         let n = (before - map.len()) as u64;
//!         Box::pin(async move { Ok(n) })
//!     }
//! }
//! # let _ = idme_core::IdmeBuilder::new().session_store(MyStore::default());
//! ```
//!
//! (A production store also honours [`Record::expires_at`], as [`MemoryStore`] and the
//! Redis store do: expired records must not load, nor be updated.)

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// The future a [`SessionStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A stored session: indexing data in clear, the session itself sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    /// The session id (random, 24+ characters, new at every sign-in).
    pub id: String,
    /// The user's subject identifier, for [`SessionStore::delete_by_sub`].
    pub sub: String,
    /// The provider's session id (`sid` claim of the ID token), when it sent one.
    pub provider_sid: Option<String>,
    /// Unix seconds after which the record must not load (the session's absolute end,
    /// or its idle end when that comes first).
    pub expires_at: u64,
    /// The session, sealed with the cookie keys (opaque to the store).
    pub data: String,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("sub", &self.sub)
            .field("provider_sid", &self.provider_sid)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A store could not be used (unreachable, timed out, answered garbage). Requests that
/// need a session answer `503` ([`Error::SessionStoreUnavailable`](crate::Error::SessionStoreUnavailable)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("session store unavailable: {0}")]
pub struct StoreError(pub String);

/// Where server-side sessions live. Implementations must be safe to share between
/// requests and, for several instances, between processes (Redis: `idme-session-redis`).
///
/// Every method is one round trip at most; none is called on a request without a
/// session cookie.
pub trait SessionStore: std::fmt::Debug + Send + Sync + 'static {
    /// The record with this id, if there is one and it has not expired.
    fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Record>>;
    /// Creates or replaces the record with `record.id`, expiring at `record.expires_at`.
    /// Used once per session, at sign-in.
    fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, ()>;
    /// Replaces the record with `record.id` (and its expiry) only if it exists and has not
    /// expired, atomically; never creates one. `Ok(false)` means there was none: the
    /// session ended (logout, back-channel logout, expiry) while the caller held it, and
    /// it stays ended. Used for every change after sign-in (refresh, last-seen time).
    fn update<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, bool>;
    /// Deletes the record with this id (no error if there is none).
    fn delete<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()>;
    /// Deletes every record of the user `sub`; returns how many there were.
    fn delete_by_sub<'a>(&'a self, sub: &'a str) -> StoreFuture<'a, u64>;
    /// Deletes every record of the provider session `sid`; returns how many there were.
    fn delete_by_provider_sid<'a>(&'a self, sid: &'a str) -> StoreFuture<'a, u64>;
}

/// A shared store (for example one [`MemoryStore`] behind several engines in a test).
impl<T: SessionStore> SessionStore for std::sync::Arc<T> {
    fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Record>> {
        (**self).load(id)
    }
    fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, ()> {
        (**self).save(record)
    }
    fn update<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, bool> {
        (**self).update(record)
    }
    fn delete<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        (**self).delete(id)
    }
    fn delete_by_sub<'a>(&'a self, sub: &'a str) -> StoreFuture<'a, u64> {
        (**self).delete_by_sub(sub)
    }
    fn delete_by_provider_sid<'a>(&'a self, sid: &'a str) -> StoreFuture<'a, u64> {
        (**self).delete_by_provider_sid(sid)
    }
}

/// Sessions in this process's memory: for tests, examples and single-instance apps
/// (sessions end when the process stops). Expired records are dropped when met.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, Record>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records it holds (expired ones included until met).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn delete_where(&self, pred: impl Fn(&Record) -> bool) -> u64 {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, r| !pred(r));
        (before - map.len()) as u64
    }
}

impl SessionStore for MemoryStore {
    fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Record>> {
        let now = crate::engine::unix_now();
        let mut map = self.lock();
        let found = match map.get(id) {
            Some(r) if r.expires_at <= now => {
                map.remove(id);
                None
            }
            other => other.cloned(),
        };
        Box::pin(async move { Ok(found) })
    }

    fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, ()> {
        self.lock().insert(record.id.clone(), record.clone());
        Box::pin(async { Ok(()) })
    }

    fn update<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, bool> {
        let now = crate::engine::unix_now();
        let mut map = self.lock();
        let updated = match map.get_mut(&record.id) {
            Some(r) if r.expires_at <= now => {
                map.remove(&record.id);
                false
            }
            Some(r) => {
                *r = record.clone();
                true
            }
            None => false,
        };
        Box::pin(async move { Ok(updated) })
    }

    fn delete<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        self.lock().remove(id);
        Box::pin(async { Ok(()) })
    }

    fn delete_by_sub<'a>(&'a self, sub: &'a str) -> StoreFuture<'a, u64> {
        let n = self.delete_where(|r| r.sub == sub);
        Box::pin(async move { Ok(n) })
    }

    fn delete_by_provider_sid<'a>(&'a self, sid: &'a str) -> StoreFuture<'a, u64> {
        let n = self.delete_where(|r| r.provider_sid.as_deref() == Some(sid));
        Box::pin(async move { Ok(n) })
    }
}

/// One conformance suite for every [`SessionStore`]: expands to `#[tokio::test]`s in the
/// calling module. `$make` is an async expression giving a fresh, empty store (a value
/// implementing [`SessionStore`]). The caller needs `tokio` with `macros` and `rt`.
///
/// ```text
/// idme_core::store_tests!(MemoryStore::new());
/// ```
#[macro_export]
macro_rules! store_tests {
    ($make:expr) => {
        fn __record(
            id: &str,
            sub: &str,
            sid: Option<&str>,
            ttl: u64,
        ) -> $crate::session::store::Record {
            $crate::session::store::Record {
                id: id.to_owned(),
                sub: sub.to_owned(),
                provider_sid: sid.map(str::to_owned),
                expires_at: $crate::session::store::__now() + ttl,
                data: format!("sealed-{id}"),
            }
        }

        #[tokio::test]
        async fn store_round_trips_and_deletes() {
            use $crate::session::store::SessionStore as _;
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
            use $crate::session::store::SessionStore as _;
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
            use $crate::session::store::SessionStore as _;
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
            use $crate::session::store::SessionStore as _;
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
        async fn store_does_not_load_expired_records() {
            use $crate::session::store::SessionStore as _;
            let store = $make;
            let mut r = __record("id-expired", "sub-exp", None, 0);
            r.expires_at = $crate::session::store::__now().saturating_sub(1);
            // A store may refuse to save an already-expired record, or drop it on load.
            let _ = store.save(&r).await;
            assert_eq!(store.load(&r.id).await.unwrap(), None);
            // Nor does an update bring it back.
            let mut live = r.clone();
            live.expires_at = $crate::session::store::__now() + 600;
            assert!(!store.update(&live).await.unwrap());
            assert_eq!(store.load(&r.id).await.unwrap(), None);
        }
    };
}

#[doc(hidden)]
/// The clock the suite uses.
pub fn __now() -> u64 {
    crate::engine::unix_now()
}

#[cfg(test)]
mod tests {
    use super::MemoryStore;

    crate::store_tests!(MemoryStore::new());
}
