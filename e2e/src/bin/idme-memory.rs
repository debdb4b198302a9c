//! Memory per session and per pending login (issue 14, point 5).
//!
//! `cargo run --release -p idme-e2e --bin idme-memory` (`SESSIONS`, default 100000;
//! `LOGINS`, default 100000)
//!
//! 1. Sessions: an engine with a [`MemoryStore`] signs the veteran in for real against the
//!    in-memory emulator (`REAL` times, default 200) and keeps every record the engine
//!    saves; then the store is filled to `SESSIONS` records shaped like those (fresh ids,
//!    each record's strings freshly allocated). Reported: the record's bytes (id, sub,
//!    provider sid, sealed data) and the resident memory grown per record.
//! 2. Pending logins: `LOGINS` calls of `Idme::login` on the same engine. A login only
//!    sets the sealed pending-login cookie; reported are the store's growth (must be 0) and
//!    the resident memory grown per login (0 beyond noise: the single-use replay record is
//!    written at the callback, not at the login, and is bounded).
#![forbid(unsafe_code)]

use std::sync::{Arc, Mutex};

use idme_core::MemoryStore;
use idme_core::async_trait;
use std::time::Duration;

use idme_core::session::store::{LockingStore, Record, SessionIndex, SessionStore, StoreError};
use idme_testkit::pair::Pair;

/// The engine's store: a shared [`MemoryStore`] that also keeps a copy of every record
/// saved, so the records of real sign-ins can be measured.
#[derive(Debug, Default)]
struct Recorded {
    store: Arc<MemoryStore>,
    saved: Mutex<Vec<Record>>,
}

#[async_trait]
impl SessionStore for Recorded {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.store.load(id).await
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        self.saved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record.clone());
        self.store.save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        self.store.update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete(id).await
    }
}

#[async_trait]
impl SessionIndex for Recorded {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.store.delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.store.delete_by_provider_sid(sid).await
    }
}

#[async_trait]
impl LockingStore for Recorded {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.store.lock(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.store.release(key, owner).await
    }
}

/// This process's resident memory, in bytes (`VmRSS` of `/proc/self/status`).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The bytes a record holds in its strings.
fn record_bytes(r: &Record) -> usize {
    r.id.len() + r.sub.len() + r.provider_sid.as_ref().map_or(0, String::len) + r.data.len()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sessions = count("SESSIONS", 100_000);
    let logins = count("LOGINS", 100_000);
    let real = count("REAL", 200).clamp(1, sessions.max(1));

    let recorded = Arc::new(Recorded::default());
    let store = Arc::clone(&recorded.store);
    let pair = Pair::new(|b| b.session_store(Arc::clone(&recorded))).await;

    // --- sessions -----------------------------------------------------------------------
    for _ in 0..real {
        pair.sign_in().await;
    }
    let saved = recorded
        .saved
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    assert_eq!(saved.len(), real, "one record per sign-in");
    assert_eq!(store.len(), real, "the store holds every session");
    let mut sizes: Vec<usize> = saved.iter().map(record_bytes).collect();
    sizes.sort_unstable();
    let median = sizes[sizes.len() / 2];
    let data_median = {
        let mut d: Vec<usize> = saved.iter().map(|r| r.data.len()).collect();
        d.sort_unstable();
        d[d.len() / 2]
    };

    let before = rss();
    for i in real..sessions {
        let model = &saved[i % saved.len()];
        // A fresh id of the same length; every string newly allocated, as after a sign-in.
        let tag = format!("{i:0>12}");
        let id = format!(
            "{}{tag}",
            &model.id[..model.id.len().saturating_sub(tag.len())]
        );
        let record = Record::new(
            id,
            model.sub.clone(),
            model.provider_sid.clone(),
            model.expires_at,
            model.data.clone(),
        );
        store.save(&record).await?;
    }
    let after = rss();
    let filled = sessions - real;
    assert_eq!(store.len(), sessions, "every record is kept");
    println!(
        "sessions in MemoryStore: {sessions} ({real} real sign-ins, {filled} copies of their records)"
    );
    println!(
        "  record: {median} bytes median (sealed data {data_median}, id {}, sub {}, provider sid {}); min {} max {}",
        saved[0].id.len(),
        saved[0].sub.len(),
        saved[0].provider_sid.as_ref().map_or(0, String::len),
        sizes[0],
        sizes[sizes.len() - 1],
    );
    if filled > 0 {
        let per = after.saturating_sub(before) as f64 / filled as f64;
        println!(
            "  resident memory: {:.1} MiB before, {:.1} MiB after: {per:.0} bytes per session",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0,
        );
    }

    // --- pending logins -----------------------------------------------------------------
    // A first batch warms the allocator and the engine's caches (discovery is cached).
    for _ in 0..1_000 {
        let warm = pair.login().await;
        assert_eq!(warm.status, 303, "login redirects");
    }
    let stored = store.len();
    let before = rss();
    let mut cookie_bytes = 0usize;
    for _ in 0..logins {
        let reply = pair.login().await;
        assert_eq!(reply.status, 303, "login redirects");
        cookie_bytes = reply.set_cookies.iter().map(|c| c.value.len()).sum();
    }
    let after = rss();
    println!("pending logins: {logins} calls of Idme::login");
    println!(
        "  session store: {stored} records before, {} after (+{})",
        store.len(),
        store.len() - stored
    );
    println!(
        "  resident memory: {:.1} MiB before, {:.1} MiB after: {:.2} bytes per login; the state travels in the pending-login cookie ({cookie_bytes} bytes)",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        after.saturating_sub(before) as f64 / logins.max(1) as f64,
    );
    Ok(())
}
