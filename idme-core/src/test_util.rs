//! Hooks for tests and load tests only, behind the `test-util` feature (off by default):
//! they reach into the engine's state in ways no application should.

use crate::cookies::{RequestCookies, SetCookie};
use crate::engine::Idme;
use crate::session::Session;
use crate::store::{LockingStore, Record, SessionIndex, SessionStore, StoreError};
use std::time::Duration;

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
        let now = config.clock.now();
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

fn down() -> StoreError {
    StoreError::new("the test store is down")
}

#[async_trait::async_trait]
impl SessionStore for UnavailableStore {
    async fn load(&self, _id: &str) -> Result<Option<Record>, StoreError> {
        Err(down())
    }
    async fn save(&self, _record: &Record) -> Result<(), StoreError> {
        Err(down())
    }
    async fn update(&self, _record: &Record) -> Result<bool, StoreError> {
        Err(down())
    }
    async fn delete(&self, _id: &str) -> Result<(), StoreError> {
        Err(down())
    }
}

#[async_trait::async_trait]
impl SessionIndex for UnavailableStore {
    async fn delete_by_sub(&self, _sub: &str) -> Result<u64, StoreError> {
        Err(down())
    }
    async fn delete_by_provider_sid(&self, _sid: &str) -> Result<u64, StoreError> {
        Err(down())
    }
}

#[async_trait::async_trait]
impl LockingStore for UnavailableStore {
    async fn lock(&self, _key: &str, _owner: &str, _ttl: Duration) -> Result<bool, StoreError> {
        Err(down())
    }
    async fn release(&self, _key: &str, _owner: &str) -> Result<(), StoreError> {
        Err(down())
    }
}

/// An [extension](crate::extension::Extension) that accepts bearer tokens, recognizes
/// those starting with `refused.` and refuses them all: for tests of what a bad bearer
/// token gets.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefusingBearer;

/// An extension that recognizes the bearer tokens starting with `accepted.` and accepts
/// them all, as the user `bearer-user` (no verification): for tests of what a good bearer
/// token gets, without an authorization server.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptingBearer;

/// The subject of [`AcceptingBearer`]'s user.
pub const BEARER_USER: &str = "bearer-user";

#[async_trait::async_trait]
impl crate::extension::Extension for AcceptingBearer {
    fn recognizes_bearer(&self, token: &str) -> bool {
        token.starts_with("accepted.")
    }

    fn accepts_bearer(&self) -> bool {
        true
    }

    async fn authenticate_bearer(
        &self,
        host: &dyn crate::extension::Host,
        _token: &str,
    ) -> Result<crate::IdmeUser, crate::Error> {
        let now = host.config().clock.now();
        Ok(crate::IdmeUser::from_parts(crate::UserParts {
            sub: BEARER_USER.into(),
            claims: serde_json::Map::new(),
            verification: None,
            session_id: "bearer-grant".into(),
            created_at: now,
            expires_at: now + 3600,
            provider_sid: None,
            auth_time: None,
            acr: None,
        }))
    }
}

impl crate::extension::Extension for RefusingBearer {
    fn recognizes_bearer(&self, token: &str) -> bool {
        token.starts_with("refused.")
    }

    fn accepts_bearer(&self) -> bool {
        true
    }
}
