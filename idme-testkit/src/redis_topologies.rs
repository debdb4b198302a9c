//! Throwaway Redis deployments on loopback, for tests of the Redis session store beyond one
//! server: a Redis Cluster (three masters, three replicas) and a master with a replica
//! watched by Sentinel, whose master can be killed to force a failover.
//!
//! Needs `redis-server` and `redis-cli` (Debian/Ubuntu: `apt-get install -y redis-server`,
//! which brings `redis-tools`). A missing binary is a test failure that says so.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `redis-server` child process with its own directory, killed on drop.
#[derive(Debug)]
struct Node {
    child: Option<Child>,
    port: u16,
}

impl Node {
    /// Starts `redis-server` on `port` in `dir` with `args`, waiting until it answers.
    fn start(dir: &std::path::Path, port: u16, args: &[String]) -> Node {
        let child = Command::new("redis-server")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): these tests need a real Redis; install it \
                     with `apt-get install -y redis-server`"
                )
            });
        let node = Node {
            child: Some(child),
            port,
        };
        wait_for(
            || cli(port, &["PING"]).is_some_and(|r| r.trim() == "PONG"),
            &format!("redis-server on port {port} to answer"),
        );
        node
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `redis-cli -p port args…`'s output, `None` when it failed.
fn cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run redis-cli ({e}): install the redis-tools package"));
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits up to 30 s for `ready`.
fn wait_for(mut ready: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `n` distinct free loopback ports (and, for the cluster, their bus ports + 10000).
fn free_ports(n: usize, cluster_bus: bool) -> Vec<u16> {
    let mut ports = Vec::with_capacity(n);
    while ports.len() < n {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let bus_free = !cluster_bus
            || (port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok());
        if bus_free && !ports.contains(&port) {
            ports.push(port);
        }
    }
    ports
}

/// A fresh temporary directory, removed on drop.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "idme-{what}-{}-{}",
            std::process::id(),
            crate::util::random_hex(6)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A local Redis Cluster: three masters and three replicas on loopback ports, made with
/// `redis-cli --cluster create`; every process is killed on drop.
///
/// ```no_run
/// let cluster = idme_testkit::RedisCluster::start();
/// let url = cluster.url(); // redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…
/// # let _ = url;
/// ```
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<Node>,
    _dir: TempDir,
}

impl RedisCluster {
    /// Starts six nodes, joins them into a cluster with one replica per master, and waits
    /// until every node reports `cluster_state:ok`.
    ///
    /// # Panics
    /// When `redis-server` or `redis-cli` is missing, or the cluster does not form in 30 s.
    pub fn start() -> RedisCluster {
        let dir = TempDir::new("redis-cluster");
        let ports = free_ports(6, true);
        let nodes: Vec<Node> = ports
            .iter()
            .map(|&port| {
                let args = [
                    "--port".to_owned(),
                    port.to_string(),
                    "--bind".into(),
                    "127.0.0.1".into(),
                    "--cluster-enabled".into(),
                    "yes".into(),
                    "--cluster-config-file".into(),
                    format!("nodes-{port}.conf"),
                    "--cluster-node-timeout".into(),
                    "2000".into(),
                    "--save".into(),
                    String::new(),
                    "--appendonly".into(),
                    "no".into(),
                ];
                Node::start(&dir.0, port, &args)
            })
            .collect();
        let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli --cluster create runs");
        assert!(created.success(), "redis-cli --cluster create failed");
        for &port in &ports {
            wait_for(
                || cli(port, &["CLUSTER", "INFO"]).is_some_and(|i| i.contains("cluster_state:ok")),
                &format!("cluster node {port} to report cluster_state:ok"),
            );
        }
        RedisCluster { nodes, _dir: dir }
    }

    /// `redis+cluster://127.0.0.1:p1,…` naming every node.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// The nodes' ports.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }
}

/// A Redis master with one replica, watched by one Sentinel (quorum 1, the master deemed
/// down after 1 s), on loopback ports; every process is killed on drop.
///
/// ```no_run
/// let mut redis = idme_testkit::RedisSentinel::start();
/// let url = redis.url(); // redis+sentinel://127.0.0.1:<sentinel>/idme-master
/// redis.kill_master(); // the Sentinel promotes the replica within seconds
/// redis.wait_for_failover();
/// # let _ = url;
/// ```
#[derive(Debug)]
pub struct RedisSentinel {
    master: Node,
    replica: Node,
    sentinel: Node,
    _dir: TempDir,
}

/// The name the Sentinel monitors the master under.
pub const SENTINEL_MASTER_NAME: &str = "idme-master";

impl RedisSentinel {
    /// Starts the master, its replica (waiting until it is in sync) and the Sentinel.
    ///
    /// # Panics
    /// When `redis-server` or `redis-cli` is missing, or a node does not come up in 30 s.
    pub fn start() -> RedisSentinel {
        let dir = TempDir::new("redis-sentinel");
        let ports = free_ports(3, false);
        let base = |port: u16| {
            vec![
                "--port".to_owned(),
                port.to_string(),
                "--bind".into(),
                "127.0.0.1".into(),
                "--save".into(),
                String::new(),
                "--appendonly".into(),
                "no".into(),
            ]
        };
        let master = Node::start(&dir.0, ports[0], &base(ports[0]));
        let mut replica_args = base(ports[1]);
        replica_args.extend([
            "--replicaof".into(),
            "127.0.0.1".into(),
            ports[0].to_string(),
        ]);
        let replica = Node::start(&dir.0, ports[1], &replica_args);
        wait_for(
            || {
                cli(ports[1], &["INFO", "replication"])
                    .is_some_and(|i| i.contains("master_link_status:up"))
            },
            "the replica to sync with the master",
        );
        let conf = dir.0.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\nsentinel monitor {SENTINEL_MASTER_NAME} 127.0.0.1 {master} 1\n\
                 sentinel down-after-milliseconds {SENTINEL_MASTER_NAME} 1000\n\
                 sentinel failover-timeout {SENTINEL_MASTER_NAME} 5000\n\
                 sentinel parallel-syncs {SENTINEL_MASTER_NAME} 1\n",
                port = ports[2],
                master = ports[0],
            ),
        )
        .expect("the Sentinel's configuration is written");
        let sentinel = Node::start(
            &dir.0,
            ports[2],
            &[conf.display().to_string(), "--sentinel".into()],
        );
        wait_for(
            || {
                cli(ports[2], &["SENTINEL", "replicas", SENTINEL_MASTER_NAME])
                    .is_some_and(|r| r.contains(&ports[1].to_string()))
            },
            "the Sentinel to see the replica",
        );
        RedisSentinel {
            master,
            replica,
            sentinel,
            _dir: dir,
        }
    }

    /// `redis+sentinel://127.0.0.1:<sentinel port>/idme-master`.
    pub fn url(&self) -> String {
        format!(
            "redis+sentinel://127.0.0.1:{}/{SENTINEL_MASTER_NAME}",
            self.sentinel.port
        )
    }

    /// The port of the server the Sentinel names master now.
    pub fn master_port(&self) -> u16 {
        let reply = cli(
            self.sentinel.port,
            &["SENTINEL", "get-master-addr-by-name", SENTINEL_MASTER_NAME],
        )
        .unwrap_or_default();
        reply
            .lines()
            .nth(1)
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Kills the first master with `SIGKILL` (nothing it has not replicated survives).
    pub fn kill_master(&mut self) {
        self.master.kill();
    }

    /// Waits (up to 30 s) until the Sentinel names the replica master and it accepts writes.
    ///
    /// # Panics
    /// When no failover happens in time.
    pub fn wait_for_failover(&self) {
        let replica = self.replica.port;
        wait_for(
            || {
                self.master_port() == replica
                    && cli(replica, &["ROLE"]).is_some_and(|r| r.starts_with("master"))
            },
            "the Sentinel to promote the replica",
        );
    }
}
