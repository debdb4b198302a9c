//! Server-side session storage: the [`SessionStore`], [`SessionIndex`] and [`LockingStore`]
//! traits, their [`Record`], and
//! [`MemoryStore`], an in-process store for tests and single-instance deployments.
//!
//! By default idme-rs keeps the whole session in a sealed (encrypted and authenticated)
//! cookie and needs no store. With a store (`IdmeBuilder::session_store`), the cookie holds
//! only a sealed random session id and the session lives in the store, so that:
//! - a logout on one instance ends the session on every instance sharing the store;
//! - OIDC back-channel logout can end every session of a user (`delete_by_sub`) or of a
//!   provider session (`delete_by_provider_sid`);
//! - a refresh is spent once across the instances (the store's lock).
//!
//! A session changed after sign-in (refreshed tokens, last-seen time) is written back with
//! [`SessionStore::update`], which only replaces a record that still exists: a logout
//! that lands while a request holds the session is never undone.
//!
//! A store never sees a token in clear: [`Record::data`] is the session sealed with the
//! cookie keys and bound to the record's id. The store only indexes and expires records.
//!
//! A store is three small traits: [`SessionStore`] (load, save, update, delete),
//! [`SessionIndex`] (end every session of a user or of a provider session) and
//! [`LockingStore`] (a lock exclusive across the processes sharing the store), written as
//! plain `async fn`s under [`#[async_trait]`](crate::async_trait) (re-exported, so no
//! extra dependency is needed). This is an in-memory one, in full:
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Mutex;
//! use std::time::Duration;
//! use idme_core::async_trait;
//! use idme_core::store::{LockingStore, Record, SessionIndex, SessionStore, StoreError};
//!
//! #[derive(Debug, Default)]
//! struct MyStore {
//!     records: Mutex<HashMap<String, Record>>,
//!     locks: Mutex<HashMap<String, String>>,
//! }
//!
//! impl MyStore {
//!     fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
//!         self.records.lock().unwrap_or_else(|p| p.into_inner())
//!     }
//!     fn delete_where(&self, gone: impl Fn(&Record) -> bool) -> u64 {
//!         let mut map = self.map();
//!         let before = map.len();
//!         map.retain(|_, r| !gone(r));
//!         (before - map.len()) as u64
//!     }
//! }
//!
//! #[async_trait]
//! impl SessionStore for MyStore {
//!     async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
//!         Ok(self.map().get(id).cloned())
//!     }
//!     async fn save(&self, record: &Record) -> Result<(), StoreError> {
//!         self.map().insert(record.id.clone(), record.clone());
//!         Ok(())
//!     }
//!     async fn update(&self, record: &Record) -> Result<bool, StoreError> {
//!         // Check and replace under one lock: only a record that is still there.
//!         let mut map = self.map();
//!         Ok(map.get_mut(&record.id).map(|r| *r = record.clone()).is_some())
//!     }
//!     async fn delete(&self, id: &str) -> Result<(), StoreError> {
//!         self.map().remove(id);
//!         Ok(())
//!     }
//! }
//!
//! #[async_trait]
//! impl SessionIndex for MyStore {
//!     async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
//!         Ok(self.delete_where(|r| r.sub == sub))
//!     }
//!     async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
//!         Ok(self.delete_where(|r| r.provider_sid.as_deref() == Some(sid)))
//!     }
//! }
//!
//! // One process only: a process-wide map is the lock (a shared store uses its own, e.g.
//! // Redis's `SET NX PX`). This one ignores `ttl`; a real one must honour it.
//! #[async_trait]
//! impl LockingStore for MyStore {
//!     async fn lock(&self, key: &str, owner: &str, _ttl: Duration) -> Result<bool, StoreError> {
//!         let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
//!         if locks.contains_key(key) {
//!             return Ok(false);
//!         }
//!         locks.insert(key.to_owned(), owner.to_owned());
//!         Ok(true)
//!     }
//!     async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
//!         let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
//!         if locks.get(key).is_some_and(|o| o == owner) {
//!             locks.remove(key);
//!         }
//!         Ok(())
//!     }
//! }
//! # let _ = idme_core::IdmeBuilder::new().session_store(MyStore::default());
//! ```
//!
//! Run the shared conformance suite against it with `idme_core::store_tests!` (behind the
//! `test-util` feature: a dev-dependency feature).
//!
//! (A production store also honours [`Record::expires_at`], as [`MemoryStore`] and the
//! Redis store do: expired records must not load, nor be updated.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

#[cfg(any(test, feature = "test-util"))]
mod conformance;
mod counted;
pub(crate) use counted::Counted;

/// A stored session: indexing data in clear, the session itself sealed.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// The session id (random, 24+ characters, new at every sign-in).
    pub id: String,
    /// The user's subject identifier, for [`SessionIndex::delete_by_sub`].
    pub sub: String,
    /// The provider's session id (`sid` claim of the ID token), when it sent one.
    pub provider_sid: Option<String>,
    /// Unix seconds after which the record must not load (the session's absolute end,
    /// or its idle end when that comes first).
    pub expires_at: u64,
    /// The session, sealed with the cookie keys (opaque to the store).
    pub data: String,
}

impl Record {
    /// A record as a store reads it back: the session `id`, the user's `sub`, the
    /// provider's session id, the expiry (Unix seconds) and the sealed session `data`.
    pub fn new(
        id: impl Into<String>,
        sub: impl Into<String>,
        provider_sid: Option<String>,
        expires_at: u64,
        data: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            sub: sub.into(),
            provider_sid,
            expires_at,
            data: data.into(),
        }
    }
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
/// The underlying error, if any, is its [`source`](std::error::Error::source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    message: String,
    source: Option<crate::SharedError>,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "session store unavailable: {}", self.message)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        crate::SharedError::as_source(&self.source)
    }
}

impl StoreError {
    /// A failure described by `message` (logged; never shown to users). Leave secrets and
    /// connection strings with passwords out of it.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A failure described by `message`, caused by `source` (a client library's error,
    /// kept as [`source`](std::error::Error::source); its text must hold no secret either).
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(crate::SharedError::new(source)),
        }
    }

    /// The description.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Where server-side sessions live: the core of a store. Implementations must be safe to
/// share between requests and, for several instances, between processes (Redis:
/// `idme-session-redis`).
///
/// The engine takes a store that also ends sessions by user or provider session
/// ([`SessionIndex`]) and locks across the processes sharing it ([`LockingStore`]): a
/// [`SharedStore`]. Every method is one round trip at most; none is called on a request
/// without a session cookie. Implement it with plain `async fn`s under
/// [`#[async_trait]`](crate::async_trait) (see the [module docs](self) for a whole store).
#[async_trait]
pub trait SessionStore: std::fmt::Debug + Send + Sync + 'static {
    /// The record with this id, if there is one and it has not expired.
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError>;
    /// Creates or replaces the record with `record.id`, expiring at `record.expires_at`.
    /// Used once per session, at sign-in.
    async fn save(&self, record: &Record) -> Result<(), StoreError>;
    /// Replaces the record with `record.id` (and its expiry) only if it exists and has not
    /// expired, atomically; never creates one. `Ok(false)` means there was none: the
    /// session ended (logout, back-channel logout, expiry) while the caller held it, and
    /// it stays ended. Used for every change after sign-in (refresh, last-seen time).
    async fn update(&self, record: &Record) -> Result<bool, StoreError>;
    /// Deletes the record with this id (no error if there is none).
    async fn delete(&self, id: &str) -> Result<(), StoreError>;
}

/// A store that ends sessions by whom they belong to: what OIDC back-channel logout and
/// signing out everywhere need.
#[async_trait]
pub trait SessionIndex: SessionStore {
    /// Deletes every record of the user `sub` ([`Record::sub`]); returns how many there were.
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError>;
    /// Deletes every record of the provider session `sid` ([`Record::provider_sid`]);
    /// returns how many there were.
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError>;
}

/// A [`SessionStore`] whose lock is exclusive across every process that shares the store:
/// what a refresh relies on when several instances share sessions (one instance spends the
/// single-use refresh token, the others wait for its result), and an extension's
/// single-use codes and token rotation (`idme-apps`). There are no defaults: a store
/// without a real lock cannot be given to the engine or to `idme-apps` (a compile-time
/// error, not a lock that is always granted).
#[async_trait]
pub trait LockingStore: SessionStore {
    /// Takes the lock `key` for `owner`, for at most `ttl`, if nobody holds it, atomically
    /// across every process sharing the store; `Ok(true)` when taken.
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError>;
    /// Releases the lock `key` if `owner` still holds it (after `ttl` it may be another's).
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError>;
}

/// What the engine (and `idme-apps`) keep records in: a [`SessionStore`] with its
/// [`SessionIndex`] and [`LockingStore`]. Implemented for every type that has the three.
pub trait SharedStore: SessionIndex + LockingStore {}

impl<T: SessionIndex + LockingStore> SharedStore for T {}

/// A shared store (for example one [`MemoryStore`] behind several engines in a test).
#[async_trait]
impl<T: SessionStore> SessionStore for std::sync::Arc<T> {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        (**self).load(id).await
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        (**self).save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        (**self).update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        (**self).delete(id).await
    }
}

#[async_trait]
impl<T: SessionIndex> SessionIndex for std::sync::Arc<T> {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        (**self).delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        (**self).delete_by_provider_sid(sid).await
    }
}

#[async_trait]
impl<T: LockingStore> LockingStore for std::sync::Arc<T> {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        (**self).lock(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        (**self).release(key, owner).await
    }
}

/// Sessions in this process's memory: for tests, examples and single-instance apps
/// (sessions end when the process stops). Expired records are dropped when met, and
/// swept every [`SWEEP_EVERY`] saves (so records nobody reads again do not pile up).
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, Record>>,
    /// Saves so far, for the sweep of expired records.
    saves: std::sync::atomic::AtomicU64,
    /// Locks by key: owner and expiry (Unix seconds).
    locks: Mutex<HashMap<String, (String, u64)>>,
    clock: crate::Clock,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store judging expiry by `clock` (tests with a simulated clock; give it the
    /// engine's).
    pub fn with_clock(clock: crate::Clock) -> Self {
        Self {
            records: Mutex::default(),
            saves: Default::default(),
            locks: Mutex::default(),
            clock,
        }
    }

    /// How many records it holds (expired ones included until met).
    pub fn len(&self) -> usize {
        self.records().len()
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn delete_where(&self, pred: impl Fn(&Record) -> bool) -> u64 {
        let mut map = self.records();
        let before = map.len();
        map.retain(|_, r| !pred(r));
        (before - map.len()) as u64
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let now = self.clock.now();
        let mut map = self.records();
        let found = match map.get(id) {
            Some(r) if r.expires_at <= now => {
                map.remove(id);
                None
            }
            other => other.cloned(),
        };
        Ok(found)
    }

    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        let sweep = self
            .saves
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % SWEEP_EVERY
            == SWEEP_EVERY - 1;
        let now = if sweep { self.clock.now() } else { 0 };
        let mut map = self.records();
        if sweep {
            map.retain(|_, r| r.expires_at > now);
        }
        map.insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut map = self.records();
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
        Ok(updated)
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.records().remove(id);
        Ok(())
    }
}

#[async_trait]
impl SessionIndex for MemoryStore {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        Ok(self.delete_where(|r| r.sub == sub))
    }

    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        Ok(self.delete_where(|r| r.provider_sid.as_deref() == Some(sid)))
    }
}

/// The memory store's lock is exclusive among everything that can reach the store: the
/// one process it lives in.
#[async_trait]
impl LockingStore for MemoryStore {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.retain(|_, (_, until)| *until > now);
        if locks.contains_key(key) {
            return Ok(false);
        }
        // Whole seconds, rounded up: a lock never ends before its `ttl`.
        let until = now + ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
        locks.insert(key.to_owned(), (owner.to_owned(), until));
        Ok(true)
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.get(key).is_some_and(|(o, _)| o == owner) {
            locks.remove(key);
        }
        Ok(())
    }
}

/// A [`MemoryStore`] sweeps its expired records once per this many saves.
pub const SWEEP_EVERY: u64 = 1024;

#[cfg(test)]
mod tests {
    use super::{MemoryStore, Record, SWEEP_EVERY, SessionStore};

    crate::store_tests!(MemoryStore::new(), locks);

    #[tokio::test]
    async fn expired_records_nobody_reads_are_swept() {
        let store = MemoryStore::with_clock(crate::Clock::from_fn(|| 1000));
        for i in 0..SWEEP_EVERY - 1 {
            let expired = Record::new(format!("old{i}"), "sub", None, 999, "x");
            store.save(&expired).await.unwrap();
        }
        assert_eq!(store.len() as u64, SWEEP_EVERY - 1);
        store
            .save(&Record::new("live", "sub", None, 2000, "x"))
            .await
            .unwrap();
        assert_eq!(store.len(), 1, "the expired ones went at the sweep");
    }
}
