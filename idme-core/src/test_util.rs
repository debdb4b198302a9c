//! Hooks for tests and load tests only, behind the `test-util` feature (off by default):
//! they reach into the engine's state in ways no application should.

use crate::cookies::{RequestCookies, SetCookie};
use crate::engine::{Idme, unix_now};
use crate::session::Session;
use crate::session::store::{Record, SessionStore, StoreError, StoreFuture};

impl Idme {
    /// For tests of cookie chunking only: the request's (cookie-store) session re-sealed
    /// with one more claim.
    pub fn __reseal_with_claim(
        &self,
        cookies: &RequestCookies,
        name: &str,
        value: &str,
    ) -> Option<Vec<SetCookie>> {
        let config = &self.inner.config;
        let now = unix_now();
        let mut session = Session::from_cookies(config, cookies, now).ok()?;
        session.claims.insert(name.into(), value.into());
        Some(session.to_cookies(config, cookies, now))
    }

    /// For load tests only: how many logins the single-use record holds, and the heap
    /// its keys reserve (bytes).
    pub fn __used_logins(&self) -> (usize, usize) {
        let s = self.inner.used_logins.stats();
        (s.entries, s.heap_bytes)
    }
}

/// A session store that is always down: every call fails with [`StoreError`], so requests
/// with a session answer `503`. For tests of what an application does during an outage.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnavailableStore;

impl UnavailableStore {
    fn down<'a, T: Send + 'a>() -> StoreFuture<'a, T> {
        Box::pin(async { Err(StoreError("the test store is down".into())) })
    }
}

impl SessionStore for UnavailableStore {
    fn load<'a>(&'a self, _id: &'a str) -> StoreFuture<'a, Option<Record>> {
        Self::down()
    }
    fn save<'a>(&'a self, _record: &'a Record) -> StoreFuture<'a, ()> {
        Self::down()
    }
    fn update<'a>(&'a self, _record: &'a Record) -> StoreFuture<'a, bool> {
        Self::down()
    }
    fn delete<'a>(&'a self, _id: &'a str) -> StoreFuture<'a, ()> {
        Self::down()
    }
    fn delete_by_sub<'a>(&'a self, _sub: &'a str) -> StoreFuture<'a, u64> {
        Self::down()
    }
    fn delete_by_provider_sid<'a>(&'a self, _sid: &'a str) -> StoreFuture<'a, u64> {
        Self::down()
    }
}
