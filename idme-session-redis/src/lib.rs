//! # idme-session-redis
//!
//! A Redis [`SessionStore`] for idme-rs: the session lives in Redis, the browser's cookie
//! holds only a sealed random id. Several instances sharing one Redis (and the same
//! `IDME_COOKIE_KEYS`) share sessions: a sign-in on one works on all, a logout on one
//! (or an OIDC back-channel logout received by any) ends the session on all.
//!
//! No web framework dependency; async with tokio and redis's auto-reconnecting
//! connection manager. Each call is bounded by a timeout (default 2 s): when Redis is
//! down, requests that need a session get `503` ("Sessions are temporarily
//! unavailable"), and recover by themselves when Redis is back.
//!
//! Three deployments ([`Topology`], read from the URL [`RedisStore::connect`] takes):
//! - one server, `redis://host:port/db`;
//! - a **Redis Cluster**, `redis+cluster://host:port,host:port,…`: commands go to the node
//!   of their key's slot, redirections and topology changes are followed. Each command
//!   touches one key, so nothing needs a hash tag: a record and the index sets that list
//!   it are written one key at a time, the sets first (an index naming a record that is
//!   gone is harmless; a record no index names could escape "sign out everywhere");
//! - a master found through **Sentinel**, `redis+sentinel://host:port,host:port/<master>[/db]`:
//!   after a failover (the old master unreachable, or answering `READONLY` as a replica)
//!   the store asks the Sentinels again and continues on the new master without a restart.
//!   Replication is asynchronous: a session written within the replication lag before the
//!   master died can be lost (its person signs in again); nothing else is.
//!
//! | key | holds |
//! |---|---|
//! | `{prefix}s:{id}` | the record (JSON; the session itself is sealed with the cookie keys), expiring with the session |
//! | `{prefix}u:{sub}` | the ids of the user's sessions (for logout everywhere) |
//! | `{prefix}p:{sid}` | the ids of a provider session's sessions (back-channel logout by `sid`) |
//!
//! Changes after sign-in ([`SessionStore::update`]: refreshed tokens, last-seen time) are
//! one Lua script: `SET … XX` (only a record still there) and, when it was, the index
//! updates; a session deleted meanwhile is never re-created.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use idme_core::{Idme, IdmeBuilder};
//! use idme_session_redis::RedisStore;
//! let store = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
//! let idme = Idme::new(IdmeBuilder::from_env()?.session_store(store).build()?);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![forbid(unused_must_use)]

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use std::time::Duration;

use idme_core::async_trait;
use idme_core::session::store::{LockingStore, Record, SessionIndex, SessionStore, StoreError};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

mod topology;

pub use topology::Topology;
use topology::{Backend, Conn};

/// Sessions in Redis. Cheap to clone (one multiplexed, auto-reconnecting connection).
#[derive(Clone)]
pub struct RedisStore {
    backend: Backend,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        let topology = match &self.backend {
            Backend::Server(_) => "server",
            Backend::Cluster(_) => "cluster",
            Backend::Sentinel(_) => "sentinel",
        };
        f.debug_struct("RedisStore")
            .field("topology", &topology)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// [`SessionStore::update`] in one step: `KEYS[1]` the record, `KEYS[2..]` its index sets;
/// `ARGV[1]` the JSON, `ARGV[2]` the expiry, `ARGV[3]` the id. Replaces the record only if
/// it exists (`XX`) and then indexes it like `save`; answers 1, or 0 when there was none.
const UPDATE_SCRIPT: &str = r#"
if not redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2], 'XX') then
  return 0
end
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
  redis.call('EXPIREAT', KEYS[i], ARGV[2], 'NX')
  redis.call('EXPIREAT', KEYS[i], ARGV[2], 'GT')
end
return 1
"#;

/// Indexes `ARGV[1]` in the set `KEYS[1]`, which lives until `ARGV[2]` at least: one key,
/// so it runs on a cluster too.
const INDEX_SCRIPT: &str = r"
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIREAT', KEYS[1], ARGV[2], 'NX')
redis.call('EXPIREAT', KEYS[1], ARGV[2], 'GT')
return 1
";

/// The record as stored.
#[derive(Serialize, Deserialize)]
struct Stored {
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    psid: Option<String>,
    exp: u64,
    data: String,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn store_error(e: redis::RedisError) -> StoreError {
    // RedisError's text names the failure (connection refused, timeout, …), never a value.
    StoreError::with_source(format!("redis: {e}"), e)
}

impl RedisStore {
    /// Connects to `url`, with keys under the prefix `idme:` and a 2 s timeout per call:
    /// `redis://host:port/db` (`rediss://` for TLS if redis is built with it),
    /// `redis+cluster://host:port,host:port,…` or
    /// `redis+sentinel://host:port,host:port/<master>[/db]` (see [`Topology::parse`]).
    ///
    /// Fails if Redis cannot be reached now; later outages are survived (reconnects).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, Duration::from_secs(2)).await
    }

    /// Like [`connect`](Self::connect), with `timeout` per call (and per connection attempt).
    pub async fn connect_with(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        Self::connect_to(&Topology::parse(url)?, timeout).await
    }

    /// Connects to `topology`, with `timeout` per call (and per connection attempt).
    pub async fn connect_to(topology: &Topology, timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self {
            backend: Backend::connect(topology, timeout).await?,
            prefix: "idme:".into(),
            timeout,
        })
    }

    /// Keys under `prefix` instead of `idme:` (several apps sharing one Redis).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), idme_core::session::store::StoreError> {
    /// use std::time::Duration;
    /// use idme_session_redis::RedisStore;
    /// // Two apps on one Redis: `shop:s:…` and `forum:s:…` never meet.
    /// let shop = RedisStore::connect_with("redis://127.0.0.1:6379/0", Duration::from_millis(500))
    ///     .await?
    ///     .with_prefix("shop:");
    /// let forum = RedisStore::connect("redis://127.0.0.1:6379/0")
    ///     .await?
    ///     .with_prefix("forum:");
    /// # let _ = (shop, forum);
    /// # Ok(()) }
    /// ```
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// Runs `f` on a connection, bounded by the timeout. Every command here is
    /// idempotent, so one whose connection turned out to be dead (Redis restarted since
    /// the last call) is sent once more, on the connection the manager re-establishes;
    /// behind Sentinel, after asking the Sentinels for the master again (also when the
    /// server answered `READONLY`: it was demoted by a failover).
    async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        F: Fn(Conn) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let mut retried = false;
        loop {
            let failed = match tokio::time::timeout(self.timeout, f(self.backend.conn())).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => e,
                Err(_) if !retried && matches!(self.backend, Backend::Sentinel(_)) => {
                    redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
                }
                Err(_) => return Err(StoreError::new("redis: timed out")),
            };
            let demoted =
                failed.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly);
            let lost = failed.is_connection_dropped()
                || failed.is_io_error()
                || failed.is_connection_refusal()
                || failed.is_timeout();
            if retried || !(lost || demoted) {
                return Err(store_error(failed));
            }
            retried = true;
            tracing::debug!(target: "idme::session", error = %failed, "redis connection lost; retrying once");
            if let Backend::Sentinel(master) = &self.backend
                && let Err(e) = master.rediscover().await
            {
                tracing::warn!(target: "idme::session", error = %e, "redis+sentinel: no master found");
                return Err(e);
            }
        }
    }

    /// `SET key json EXAT exp`, with `XX` (only a record still there) when `existing`;
    /// whether it was written.
    async fn set_record(
        &self,
        key: &str,
        json: &str,
        exp: u64,
        existing: bool,
    ) -> Result<bool, StoreError> {
        let written: Option<String> = self
            .run(|mut c| async move {
                let mut cmd = redis::cmd("SET");
                cmd.arg(key).arg(json).arg("EXAT").arg(exp);
                if existing {
                    cmd.arg("XX");
                }
                cmd.query_async(&mut c).await
            })
            .await?;
        Ok(written.is_some())
    }

    /// Indexes `id` in each of `sets` until `exp` at least, one key per command (a cluster
    /// may hold the sets on different nodes).
    async fn index_each(&self, sets: &[String], id: &str, exp: u64) -> Result<(), StoreError> {
        for set in sets {
            self.run(|mut c| async move {
                redis::cmd("EVAL")
                    .arg(INDEX_SCRIPT)
                    .arg(1)
                    .arg(set)
                    .arg(id)
                    .arg(exp)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await?;
        }
        Ok(())
    }

    /// The record as stored, in JSON.
    fn stored_json(&self, record: &Record) -> Result<String, StoreError> {
        serde_json::to_string(&Stored {
            sub: record.sub.clone(),
            psid: record.provider_sid.clone(),
            exp: record.expires_at,
            data: record.data.clone(),
        })
        .map_err(|e| StoreError::with_source(format!("serialising a record: {e}"), e))
    }

    /// The record's key, then the index sets that list it (user, provider session).
    fn keys_of(&self, record: &Record) -> Vec<String> {
        let mut keys = vec![self.key("s", &record.id), self.key("u", &record.sub)];
        if let Some(psid) = &record.provider_sid {
            keys.push(self.key("p", psid));
        }
        keys
    }

    /// Deletes the records listed in the set `set_key`, and the set.
    async fn delete_set(&self, set_key: String) -> Result<u64, StoreError> {
        let set_key = &set_key;
        let prefix = self.prefix.as_str();
        self.run(|mut c| async move {
            let ids: Vec<String> = c.smembers(set_key).await?;
            let keys: Vec<String> = ids.iter().map(|id| format!("{prefix}s:{id}")).collect();
            let n: u64 = if keys.is_empty() {
                0
            } else {
                c.del(&keys).await?
            };
            let _: u64 = c.del(set_key).await?;
            Ok(n)
        })
        .await
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let key = &self.key("s", id);
        let json: Option<String> = self.run(|mut c| async move { c.get(key).await }).await?;
        let Some(json) = json else { return Ok(None) };
        let stored: Stored = match serde_json::from_str(&json) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(target: "idme::session", error = %e, "unreadable session record ignored");
                return Ok(None);
            }
        };
        if stored.exp <= now() {
            return Ok(None);
        }
        Ok(Some(Record::new(
            id.to_owned(),
            stored.sub,
            stored.psid,
            stored.exp,
            stored.data,
        )))
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        if record.expires_at <= now() {
            return self.delete(&record.id).await;
        }
        let json = self.stored_json(record)?;
        let keys = self.keys_of(record);
        let (key, sets) = (&keys[0], &keys[1..]);
        let (id, json) = (&record.id, &json);
        let exp = record.expires_at;
        if self.backend.is_cluster() {
            // The sets first: a record is never stored unindexed.
            self.index_each(sets, id, exp).await?;
            return self.set_record(key, json, exp, false).await.map(drop);
        }
        self.run(|mut c| async move {
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("SET")
                .arg(key)
                .arg(json)
                .arg("EXAT")
                .arg(exp)
                .ignore();
            for set in sets {
                // An index lives as long as its longest-lived session.
                pipe.sadd(set, id).ignore();
                pipe.cmd("EXPIREAT").arg(set).arg(exp).arg("NX").ignore();
                pipe.cmd("EXPIREAT").arg(set).arg(exp).arg("GT").ignore();
            }
            pipe.query_async::<()>(&mut c).await
        })
        .await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        if record.expires_at <= now() {
            // Ending now: whatever is stored goes, nothing is written.
            self.delete(&record.id).await?;
            return Ok(false);
        }
        let json = self.stored_json(record)?;
        let keys = &self.keys_of(record);
        let (json, id, exp) = (&json, &record.id, record.expires_at);
        if self.backend.is_cluster() {
            // `XX`: only a record still there; then its sets, one key at a time.
            let replaced = self.set_record(&keys[0], json, exp, true).await?;
            if replaced {
                self.index_each(&keys[1..], id, exp).await?;
            }
            return Ok(replaced);
        }
        let updated: i64 = self
            .run(|mut c| async move {
                redis::cmd("EVAL")
                    .arg(UPDATE_SCRIPT)
                    .arg(keys.len())
                    .arg(keys)
                    .arg(json)
                    .arg(exp)
                    .arg(id)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(updated == 1)
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        let key = &self.key("s", id);
        // The id stays in its index sets until they expire; deleting a missing
        // record later is harmless.
        self.run(|mut c| async move { c.del::<_, ()>(key).await })
            .await
    }
}

#[async_trait]
impl SessionIndex for RedisStore {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.delete_set(self.key("u", sub)).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.delete_set(self.key("p", sid)).await
    }
}

/// Redis's lock is one key set with `NX` and a lifetime, exclusive across every instance
/// sharing the server.
#[async_trait]
impl LockingStore for RedisStore {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let key = &self.key("lock", key);
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let taken: i64 = self
            .run(|mut c| async move {
                redis::cmd("EVAL")
                    .arg(LOCK_SCRIPT)
                    .arg(1)
                    .arg(key)
                    .arg(owner)
                    .arg(ms)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(taken == 1)
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let key = &self.key("lock", key);
        self.run(|mut c| async move {
            redis::cmd("EVAL")
                .arg(UNLOCK_SCRIPT)
                .arg(1)
                .arg(key)
                .arg(owner)
                .query_async::<i64>(&mut c)
                .await
        })
        .await
        .map(drop)
    }
}

/// Takes the lock `KEYS[1]` for the owner `ARGV[1]` for `ARGV[2]` ms if it is free.
/// Held by the same owner already counts as taken, so a retry after a dropped connection
/// (`run` sends a command once more) does not lock its own caller out.
const LOCK_SCRIPT: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return 1 end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// Releases the lock `KEYS[1]` only if the owner `ARGV[1]` still holds it.
const UNLOCK_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    /// A refused connection keeps Redis's error as the source, and neither names the
    /// password of the URL.
    #[tokio::test]
    async fn errors_keep_the_redis_error_without_the_password() {
        let e = super::RedisStore::connect_with(
            "redis://:hunter2@127.0.0.1:1/0",
            std::time::Duration::from_millis(500),
        )
        .await
        .unwrap_err();
        let mut shown = format!("{e} {e:?}");
        let mut next = e.source();
        assert!(next.is_some(), "{e}");
        while let Some(s) = next {
            shown.push_str(&format!(" {s} {s:?}"));
            next = s.source();
        }
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
