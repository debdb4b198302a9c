//! The provider's signing keys: fetched, and cached with a single-flight, rate-limited
//! refetch when a token names an unknown `kid`. The keys themselves (lenient parsing, the
//! snapshot) are plain values in `validate::key_set`.

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::error::{Endpoint, Error};
use crate::http_client::HttpResponse;
use crate::validate::key_set::parse_jwks;
pub(crate) use crate::validate::key_set::{Jwk, KeySnapshot};

/// The keys of a successful JWKS answer (status, content type, then lenient parsing).
pub(crate) fn read_jwks(response: HttpResponse) -> Result<Vec<Jwk>, Error> {
    parse_jwks(&super::read_body(response, Endpoint::Jwks)?)
}

/// The cached key set. Its ages are measured with the `now` the engine is told, never
/// with a clock of its own.
pub(crate) struct JwksCache {
    current: RwLock<Option<Arc<KeySnapshot>>>,
    /// Held while fetching, so concurrent callers share one fetch. Holds the time (Unix
    /// seconds) of the last refetch caused by an unknown `kid`, for the rate limit.
    fetch: tokio::sync::Mutex<Option<u64>>,
    refetch_interval: Duration,
}

impl JwksCache {
    pub(crate) fn new(refetch_interval: Duration) -> Self {
        Self {
            current: RwLock::new(None),
            fetch: tokio::sync::Mutex::new(None),
            refetch_interval,
        }
    }

    fn snapshot(&self) -> Option<Arc<KeySnapshot>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn store(&self, keys: Vec<Jwk>, now: u64) -> Arc<KeySnapshot> {
        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
        let generation = cur.as_ref().map_or(1, |s| s.generation + 1);
        let snap = Arc::new(KeySnapshot::new(keys, generation, now));
        *cur = Some(snap.clone());
        snap
    }

    /// The cached key set if it is younger than an hour at `now`; no fetch.
    pub(crate) fn fresh(&self, now: u64) -> Option<Arc<KeySnapshot>> {
        self.snapshot().filter(|s| s.is_fresh(now))
    }

    /// The key set, fetched with `fetch` when absent or older than an hour at `now`.
    pub(crate) async fn current<F, Fut>(
        &self,
        now: u64,
        fetch: F,
    ) -> Result<Arc<KeySnapshot>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<Jwk>, Error>>,
    {
        if let Some(s) = self.fresh(now) {
            return Ok(s);
        }
        let _guard = self.fetch.lock().await;
        if let Some(s) = self.fresh(now) {
            return Ok(s);
        }
        let keys = fetch().await?;
        Ok(self.store(keys, now))
    }

    /// Refetches with `fetch` because a token named an unknown `kid`. Returns the newer
    /// set if another caller already refetched since `seen_generation`, `None` when a
    /// refetch happened less than the refetch interval before `now`.
    pub(crate) async fn refetch_for_unknown_kid<F, Fut>(
        &self,
        seen_generation: u64,
        now: u64,
        fetch: F,
    ) -> Result<Option<Arc<KeySnapshot>>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<Jwk>, Error>>,
    {
        let mut last = self.fetch.lock().await;
        if let Some(s) = self.snapshot().filter(|s| s.generation != seen_generation) {
            return Ok(Some(s));
        }
        if last.is_some_and(|t| Duration::from_secs(now.saturating_sub(t)) < self.refetch_interval)
        {
            tracing::warn!(target: "idme::provider", "unknown kid, but the JWKS was refetched recently: not fetching again");
            return Ok(None);
        }
        *last = Some(now);
        let keys = fetch().await?;
        Ok(Some(self.store(keys, now)))
    }
}
