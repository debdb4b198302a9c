//! Where the store's Redis is: one server, a Redis Cluster, or a master found through
//! Sentinel; what the `IDME_SESSION_STORE`-style URLs name; and the connection each gives.

use std::sync::Arc;
use std::time::Duration;

use idme_core::session::store::StoreError;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{Cmd, ConnectionAddr, Pipeline, RedisFuture, Value};

use crate::store_error;

/// The Redis deployment a [`RedisStore`](crate::RedisStore) talks to.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Topology {
    /// One server: `redis://host:port/db` (or `rediss://`).
    Single(String),
    /// A Redis Cluster, found from any of these nodes (`redis://host:port` each).
    Cluster(Vec<String>),
    /// The master of `master` as these Sentinels name it, with the database and
    /// credentials of `node` (`redis://[user:password@]/db`-style, host ignored).
    Sentinel {
        /// The Sentinels' addresses, `host:port`.
        sentinels: Vec<(String, u16)>,
        /// The monitored master's name.
        master: String,
        /// The database number on the master.
        db: i64,
        /// The master's username and password, if it needs them.
        auth: Option<(Option<String>, String)>,
    },
}

/// Not the URLs: they may hold a password.
impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Topology::Single(_) => f.write_str("Single"),
            Topology::Cluster(nodes) => write!(f, "Cluster({} nodes)", nodes.len()),
            Topology::Sentinel {
                sentinels, master, ..
            } => write!(f, "Sentinel({master}, {} sentinels)", sentinels.len()),
        }
    }
}

impl Topology {
    /// Reads a store URL: `redis://host:port/db` and `rediss://…` (one server),
    /// `redis+cluster://[user:password@]host:port,host:port,…` (a cluster, from any of
    /// those nodes), `redis+sentinel://[user:password@]host:port,host:port/<master>[/db]`
    /// (the master the Sentinels name; the credentials are the master's).
    ///
    /// # Errors
    /// Another scheme, no host, a port that is not a number, or no master name.
    pub fn parse(url: &str) -> Result<Topology, StoreError> {
        let url = url.trim();
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            StoreError::new("redis: not a URL (redis://, redis+cluster://, redis+sentinel://)")
        })?;
        match scheme.to_ascii_lowercase().as_str() {
            "redis" | "rediss" => Ok(Topology::Single(url.to_owned())),
            "redis+cluster" => {
                let (auth, hosts, _) = split(rest)?;
                let nodes = hosts
                    .iter()
                    .map(|(h, p)| format!("redis://{}{h}:{p}", auth.unwrap_or("")))
                    .collect();
                Ok(Topology::Cluster(nodes))
            }
            "redis+sentinel" => {
                let (auth, sentinels, path) = split(rest)?;
                let mut parts = path.split('/').filter(|p| !p.is_empty());
                let master = parts
                    .next()
                    .ok_or_else(|| {
                        StoreError::new("redis+sentinel: the URL names no master (…/<master name>)")
                    })?
                    .to_owned();
                let db = match parts.next() {
                    Some(db) => db.parse().map_err(|_| {
                        StoreError::new("redis+sentinel: the database is not a number")
                    })?,
                    None => 0,
                };
                let auth = auth.map(|a| {
                    let a = a.trim_end_matches('@');
                    match a.split_once(':') {
                        Some((user, password)) => (
                            (!user.is_empty()).then(|| user.to_owned()),
                            password.to_owned(),
                        ),
                        None => (None, a.to_owned()),
                    }
                });
                Ok(Topology::Sentinel {
                    sentinels,
                    master,
                    db,
                    auth,
                })
            }
            _ => Err(StoreError::new(
                "redis: the scheme must be redis://, rediss://, redis+cluster:// or redis+sentinel://",
            )),
        }
    }
}

/// A URL's authority and path: the userinfo (with its `@`), the hosts, the path.
type Parts<'a> = (Option<&'a str>, Vec<(String, u16)>, &'a str);

/// `[userinfo@]host:port,host:port[/path]`, split.
fn split(rest: &str) -> Result<Parts<'_>, StoreError> {
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (auth, hosts) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..=at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let hosts = hosts
        .split(',')
        .filter(|h| !h.trim().is_empty())
        .map(|h| {
            let (host, port) = h.trim().rsplit_once(':').unwrap_or((h.trim(), "6379"));
            let port = port
                .parse()
                .map_err(|_| StoreError::new("redis: a port is not a number"))?;
            Ok((host.trim_matches(['[', ']']).to_owned(), port))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if hosts.is_empty() {
        return Err(StoreError::new("redis: the URL names no host"));
    }
    Ok((auth, hosts, path))
}

/// A connection to run commands on: one server's (also the master Sentinel named) or the
/// cluster's, which routes each command to its slot's node and follows redirections.
#[derive(Clone)]
pub(crate) enum Conn {
    /// An auto-reconnecting connection to one server.
    Server(ConnectionManager),
    /// The cluster's connection.
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Server(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Server(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Server(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// The master Sentinel names, and the connection to it, replaced when Sentinel names another.
pub(crate) struct SentinelMaster {
    client: tokio::sync::Mutex<SentinelClient>,
    current: std::sync::RwLock<(ConnectionAddr, ConnectionManager)>,
    timeout: Duration,
}

impl SentinelMaster {
    /// The connection to the master as last found.
    pub(crate) fn conn(&self) -> ConnectionManager {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current.1.clone()
    }

    /// Asks the Sentinels for the master again (after a connection failure or a
    /// `READONLY` answer: a failover); a new master gets a new connection.
    pub(crate) async fn rediscover(&self) -> Result<(), StoreError> {
        let mut client = self.client.lock().await;
        let found = tokio::time::timeout(self.timeout, client.async_get_client())
            .await
            .map_err(|_| StoreError::new("redis+sentinel: the Sentinels did not answer in time"))?
            .map_err(store_error)?;
        let addr = found.get_connection_info().addr().clone();
        if self.current.read().unwrap_or_else(|p| p.into_inner()).0 == addr {
            return Ok(());
        }
        let conn = manager(found, self.timeout).await?;
        tracing::warn!(target: "idme::session", master = %addr, "redis+sentinel: the master changed; sessions continue on the new master");
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = (addr, conn);
        Ok(())
    }
}

/// What a store holds to reach Redis.
#[derive(Clone)]
pub(crate) enum Backend {
    /// One server.
    Server(ConnectionManager),
    /// A cluster.
    Cluster(ClusterConnection),
    /// A master found through Sentinel.
    Sentinel(Arc<SentinelMaster>),
}

impl Backend {
    /// Connects to `topology`, each step bounded by `timeout`.
    pub(crate) async fn connect(
        topology: &Topology,
        timeout: Duration,
    ) -> Result<Backend, StoreError> {
        let bounded =
            |what: &'static str| move |_| StoreError::new(format!("redis: {what} timed out"));
        match topology {
            Topology::Single(url) => {
                let client = redis::Client::open(url.as_str()).map_err(store_error)?;
                Ok(Backend::Server(manager(client, timeout).await?))
            }
            Topology::Cluster(nodes) => {
                let client =
                    redis::cluster::ClusterClientBuilder::new(nodes.iter().map(String::as_str))
                        .connection_timeout(timeout)
                        .response_timeout(timeout)
                        .retries(2)
                        .build()
                        .map_err(store_error)?;
                let conn = tokio::time::timeout(timeout * 2, client.get_async_connection())
                    .await
                    .map_err(bounded("connecting to the cluster"))?
                    .map_err(store_error)?;
                Ok(Backend::Cluster(conn))
            }
            Topology::Sentinel {
                sentinels,
                master,
                db,
                auth,
            } => {
                let addrs = sentinels
                    .iter()
                    .map(|(h, p)| ConnectionAddr::Tcp(h.clone(), *p));
                let mut builder =
                    SentinelClientBuilder::new(addrs, master, SentinelServerType::Master)
                        .map_err(store_error)?
                        .set_client_to_redis_db(*db);
                if let Some((user, password)) = auth {
                    if let Some(user) = user {
                        builder = builder.set_client_to_redis_username(user);
                    }
                    builder = builder.set_client_to_redis_password(password);
                }
                let mut client = builder.build().map_err(store_error)?;
                let found = tokio::time::timeout(timeout * 2, client.async_get_client())
                    .await
                    .map_err(bounded("asking the Sentinels for the master"))?
                    .map_err(store_error)?;
                let addr = found.get_connection_info().addr().clone();
                let conn = manager(found, timeout).await?;
                Ok(Backend::Sentinel(Arc::new(SentinelMaster {
                    client: tokio::sync::Mutex::new(client),
                    current: std::sync::RwLock::new((addr, conn)),
                    timeout,
                })))
            }
        }
    }

    /// A connection to run a command on.
    pub(crate) fn conn(&self) -> Conn {
        match self {
            Backend::Server(c) => Conn::Server(c.clone()),
            Backend::Cluster(c) => Conn::Cluster(c.clone()),
            Backend::Sentinel(s) => Conn::Server(s.conn()),
        }
    }

    /// Whether commands touching keys of several slots must be split.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Backend::Cluster(_))
    }
}

/// An auto-reconnecting connection to the server of `client`.
async fn manager(
    client: redis::Client,
    timeout: Duration,
) -> Result<ConnectionManager, StoreError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1);
    tokio::time::timeout(
        timeout * 2,
        ConnectionManager::new_with_config(client, config),
    )
    .await
    .map_err(|_| StoreError::new("redis: connection timed out"))?
    .map_err(store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_topology() {
        assert_eq!(
            Topology::parse("redis://127.0.0.1:6379/2").unwrap(),
            Topology::Single("redis://127.0.0.1:6379/2".into())
        );
        assert_eq!(
            Topology::parse("redis+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001").unwrap(),
            Topology::Cluster(vec![
                "redis://:pw@10.0.0.1:7000".into(),
                "redis://:pw@10.0.0.2:7001".into()
            ])
        );
        assert_eq!(
            Topology::parse("redis+sentinel://u:pw@s1:26379,s2:26380/mymaster/3").unwrap(),
            Topology::Sentinel {
                sentinels: vec![("s1".into(), 26379), ("s2".into(), 26380)],
                master: "mymaster".into(),
                db: 3,
                auth: Some((Some("u".into()), "pw".into())),
            }
        );
        for bad in [
            "http://x",
            "redis+sentinel://s1:26379",
            "redis+cluster://",
            "redis+cluster://h:port",
            "redis+sentinel://s1:1/m/x",
            "nothing",
        ] {
            assert!(Topology::parse(bad).is_err(), "{bad}");
        }
        let shown = format!(
            "{:?}",
            Topology::parse("redis+cluster://:secret@h:1").unwrap()
        );
        assert!(!shown.contains("secret"), "{shown}");
    }
}
