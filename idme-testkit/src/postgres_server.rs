//! A throwaway PostgreSQL server on a loopback port, for tests of the SQL session store
//! (`idme-session-sqlx`) and of apps using it: `initdb` and `postgres` from the Debian
//! `postgresql` package, in a temporary directory.
//!
//! Postgres refuses to run as root: as root, both run as `nobody` (the directory is
//! handed to it). A missing installation fails the test with a message naming the
//! package, unless `IDME_SKIP_POSTGRES=1` is set (then the Postgres tests pass without
//! running: for machines that cannot install it, never CI).

use std::io::Read as _;
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The uid and gid of `nobody`, who runs Postgres when the tests run as root.
const NOBODY: u32 = 65534;

/// A `postgres` on 127.0.0.1 (user `postgres`, trust authentication), stopped (and its
/// directory removed) when dropped or when the test process exits, whichever comes first.
///
/// ```no_run
/// use idme_testkit::PostgresServer;
/// let mut postgres = PostgresServer::start();
/// let url = postgres.url(); // postgres://postgres@127.0.0.1:<port>/postgres?sslmode=disable
/// postgres.stop(); // down: the store must answer "unavailable", not "no session"
/// postgres.restart(); // same port and data: the store must recover by itself
/// # let _ = url;
/// ```
#[derive(Debug)]
pub struct PostgresServer {
    /// `sh` running postgres: it stops postgres and removes the directory when its
    /// stdin (our pipe) closes.
    guard: Child,
    port: u16,
}

impl PostgresServer {
    /// Starts a server and waits until it accepts connections.
    ///
    /// # Panics
    /// When Postgres is not installed (the message names the apt package), or does not
    /// start within 30 s.
    pub fn start() -> Self {
        match Self::start_unless_skipped() {
            Some(server) => server,
            None => panic!("IDME_SKIP_POSTGRES=1, yet a test needs Postgres"),
        }
    }

    /// Starts a server, or `None` when Postgres is not installed and
    /// `IDME_SKIP_POSTGRES=1` says to go without (then the caller's test passes without
    /// running: for machines that cannot install it, never CI).
    ///
    /// # Panics
    /// When Postgres is not installed (and not skipped), or does not start within 30 s.
    pub fn start_unless_skipped() -> Option<Self> {
        let Some(bin) = bin_dir() else {
            if std::env::var("IDME_SKIP_POSTGRES").as_deref() == Ok("1") {
                eprintln!("IDME_SKIP_POSTGRES=1: the Postgres tests do not run");
                return None;
            }
            panic!(
                "PostgreSQL is not installed: these tests need a real Postgres; install it with \
                 `apt-get install -y --no-install-recommends postgresql` (Debian/Ubuntu), or set \
                 IDME_POSTGRES_BIN to the directory holding initdb and postgres \
                 (IDME_SKIP_POSTGRES=1 skips them, never in CI)"
            );
        };
        let as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        // A port found free can be taken before postgres binds it: then postgres exits,
        // its directory goes with the guard, and a new cluster tries another port.
        for _ in 0..5 {
            let dir = init_cluster(&bin, as_root);
            if let Some(server) = Self::spawn(&bin, &dir, as_root) {
                return Some(server);
            }
        }
        panic!("postgres could not bind a loopback port in 5 attempts")
    }

    /// Runs postgres on a free port under a guard shell; `None` if it exited (port taken).
    fn spawn(bin: &Path, dir: &Path, as_root: bool) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        // The guard runs postgres and reads commands on stdin: `stop` (fast shutdown,
        // the data kept), `start` (again, same port and data); on EOF it stops postgres
        // and removes the directory.
        let script = r#"
bin=$1 dir=$2 port=$3
run() {
  "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 \
    -c fsync=off -c full_page_writes=off -c max_connections=300 </dev/null >>"$dir/log" 2>&1 &
  pid=$!
}
run
while read command; do
  case "$command" in
    stop) kill -INT "$pid" 2>/dev/null; wait "$pid" ;;
    start) run ;;
  esac
done
kill -INT "$pid" 2>/dev/null
wait "$pid"
rm -rf "$dir"
"#;
        let guard = unprivileged(Command::new("sh"), as_root)
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(bin)
            .arg(dir)
            .arg(port.to_string())
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("running sh");
        // Owned at once: dropping it (on every path out) stops postgres and reaps the guard.
        let server = Self { guard, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if answers(port) {
                return Some(server);
            }
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            if log.contains("could not bind") || log.contains("could not create listen") {
                return None;
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not start on port {port} within 30 s: {log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (a fast shutdown: every committed transaction is kept) and waits
    /// until the port no longer answers.
    ///
    /// # Panics
    /// If it still answers after 30 s.
    pub fn stop(&mut self) {
        self.command(b"stop\n");
        let deadline = Instant::now() + Duration::from_secs(30);
        while answers(self.port) {
            assert!(
                Instant::now() < deadline,
                "postgres did not stop within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the stopped server again, on the same port with the same data, and waits
    /// until it accepts connections.
    ///
    /// # Panics
    /// If it does not answer within 30 s.
    pub fn restart(&mut self) {
        self.command(b"start\n");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !answers(self.port) {
            assert!(
                Instant::now() < deadline,
                "postgres did not start again on port {} within 30 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn command(&mut self, line: &[u8]) {
        use std::io::Write as _;
        let stdin = self.guard.stdin.as_mut().expect("the guard's stdin");
        stdin
            .write_all(line)
            .and_then(|()| stdin.flush())
            .expect("the guard shell takes commands");
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable` (trust: no password).
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        drop(self.guard.stdin.take());
        let _ = self.guard.wait();
    }
}

/// A new cluster (`initdb`, user `postgres`, trust) in a new temporary directory, owned
/// by `nobody` when we are root; the directory.
fn init_cluster(bin: &Path, as_root: bool) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "idme-pg-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    // A directory left by an earlier process with the same pid goes first.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    if as_root {
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).expect("chown to nobody");
    }
    let out = unprivileged(Command::new(bin.join("initdb")), as_root)
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        .args(["--no-locale", "--no-instructions"])
        .current_dir(&dir)
        .output()
        .expect("running initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// `command`, run as `nobody` when we are root.
fn unprivileged(mut command: Command, as_root: bool) -> Command {
    if as_root {
        command.uid(NOBODY).gid(NOBODY).env("HOME", "/tmp");
    }
    command
}

/// Whether something on `port` speaks the Postgres protocol (answers an SSL request).
fn answers(port: u16) -> bool {
    use std::io::Write as _;
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    // SSLRequest: length 8, code 80877103; Postgres answers one byte, `N` or `S`.
    let request = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    let mut reply = [0u8; 1];
    conn.write_all(&request).is_ok()
        && conn.read_exact(&mut reply).is_ok()
        && matches!(&reply, b"N" | b"S")
}

/// The directory holding `initdb` and `postgres`: `IDME_POSTGRES_BIN`, else Debian's
/// newest `/usr/lib/postgresql/<version>/bin`.
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("IDME_POSTGRES_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}
