//! What the suite cannot see: two stores (two pools) on one database, the background
//! sweep, timeouts, namespaces, the schema for an application's own migrations.

use std::time::{Duration, Instant};

use idme_core::store::{LockingStore, Record, SessionIndex, SessionStore};
use idme_session_sqlx::{SqlPool, SqlStore, SqlStoreError, SqlStoreOptions};

use super::common::postgres;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn record(id: &str, ttl: u64) -> Record {
    Record::new(id, "sub", Some("psid".into()), now() + ttl, "sealed")
}

/// Two stores with their own pools on one SQLite file (kept alive by the directory).
async fn two_on_sqlite(options: SqlStoreOptions) -> (tempfile::TempDir, SqlStore, SqlStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/shared.db", dir.path().display());
    let a = SqlStore::connect_with(&url, options.clone()).await.unwrap();
    let b = SqlStore::connect_with(&url, options).await.unwrap();
    (dir, a, b)
}

/// Two stores with their own pools on the same Postgres tables; `None` when skipped.
async fn two_on_postgres() -> Option<(SqlStore, SqlStore)> {
    let server = postgres::shared()?;
    let options = SqlStoreOptions::new()
        .namespace(postgres::fresh_namespace())
        .unwrap();
    let a = SqlStore::connect_with(&server.url(), options.clone())
        .await
        .unwrap();
    let b = SqlStore::connect_with(&server.url(), options)
        .await
        .unwrap();
    Some((a, b))
}

/// A lock is exclusive across stores, expires after its TTL, and is released only by
/// its owner; an update after another store's delete does not re-create the record.
async fn shared_by_two(a: &SqlStore, b: &SqlStore) {
    let ttl = Duration::from_millis(400);
    assert!(a.lock("refresh", "a", ttl).await.unwrap());
    assert!(!b.lock("refresh", "b", ttl).await.unwrap(), "held by a");
    b.release("refresh", "b").await.unwrap();
    assert!(
        !b.lock("refresh", "b", ttl).await.unwrap(),
        "not b's to release"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(
        b.lock("refresh", "b", ttl).await.unwrap(),
        "a's lock expired"
    );
    a.release("refresh", "a").await.unwrap();
    assert!(!a.lock("refresh", "a", ttl).await.unwrap(), "b's now");
    b.release("refresh", "b").await.unwrap();
    assert!(a.lock("refresh", "a", ttl).await.unwrap());

    // Many tries at once from both: exactly one wins.
    let mut tries = Vec::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tries.push(tokio::spawn(async move {
            store
                .lock("race", &format!("owner-{i}"), Duration::from_secs(30))
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for t in tries {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "one of 20 concurrent lockers");

    let r = record("shared", 600);
    a.save(&r).await.unwrap();
    assert_eq!(b.load("shared").await.unwrap(), Some(r.clone()));
    b.delete("shared").await.unwrap();
    assert!(!a.update(&r).await.unwrap(), "deleted on b");
    assert_eq!(a.load("shared").await.unwrap(), None, "not re-created");
    a.save(&r).await.unwrap();
    assert_eq!(b.delete_by_sub("sub").await.unwrap(), 1);
    assert!(!a.update(&r).await.unwrap());
    assert_eq!(b.load("shared").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_sqlite_file_share_records_and_locks() {
    let (_dir, a, b) = two_on_sqlite(SqlStoreOptions::new()).await;
    shared_by_two(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_postgres_share_records_and_locks() {
    let Some((a, b)) = two_on_postgres().await else {
        return;
    };
    shared_by_two(&a, &b).await;
}

/// Counts the rows of `table`.
async fn rows(pool: &SqlPool, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match pool {
        SqlPool::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
        SqlPool::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
        _ => unreachable!("both backends are built for the tests"),
    }
}

#[tokio::test]
async fn expired_records_are_swept_in_the_background_and_never_load() {
    let options = SqlStoreOptions::new()
        .sweep_every(Some(Duration::from_millis(200)))
        .sweep_batch(2);
    let (_dir, a, _b) = two_on_sqlite(options).await;
    for i in 0..5 {
        a.save(&record(&format!("short-{i}"), 1)).await.unwrap();
    }
    a.save(&record("long", 600)).await.unwrap();
    assert_eq!(rows(a.pool(), "idme_sessions_records").await, 6);
    // Two seconds later the five have expired: they neither load nor update, and the
    // sweep (two rows a statement) has deleted them all.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(a.load("short-0").await.unwrap(), None);
    assert!(!a.update(&record("short-1", 600)).await.unwrap());
    assert_eq!(rows(a.pool(), "idme_sessions_records").await, 1);
    assert!(a.load("long").await.unwrap().is_some());
}

#[tokio::test]
async fn a_database_that_does_not_answer_is_a_store_error_within_the_timeout() {
    // A listener that never accepts: connections hang in the handshake.
    let blackhole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "postgres://app:hunter2@127.0.0.1:{}/app?sslmode=disable",
        blackhole.local_addr().unwrap().port()
    );
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = SqlStore::connect_with(&url, SqlStoreOptions::new().timeout(timeout))
        .await
        .unwrap_err();
    assert!(matches!(err, SqlStoreError::TimedOut("postgres")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // A store on a lazy pool (the database went away after start): each call fails
    // alone, as the engine's `503`, and never names the password.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy(&url)
        .unwrap();
    let options = SqlStoreOptions::new().timeout(timeout).migrate(false);
    let store = SqlStore::from_pool(pool, options).await.unwrap();
    let started = Instant::now();
    let err = store.load("any").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.to_string().contains("timed out"), "{err}");
    let shown = format!("{err} {err:?} {store:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn a_refused_connection_never_shows_the_password() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/app?sslmode=disable");
    let err = SqlStore::connect(&url).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("postgres"), "{shown}");
}

#[tokio::test]
async fn a_locked_sqlite_file_is_a_store_error_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/locked.db", dir.path().display());
    let options = SqlStoreOptions::new().timeout(Duration::from_millis(300));
    let store = SqlStore::connect_with(&url, options).await.unwrap();
    // Another process holds the write lock.
    let SqlPool::Sqlite(pool) = store.pool() else {
        unreachable!()
    };
    let mut other = pool.acquire().await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut *other)
        .await
        .unwrap();
    let started = Instant::now();
    let err = store.save(&record("blocked", 600)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{err}");
    sqlx::query("ROLLBACK").execute(&mut *other).await.unwrap();
    drop(other);
    store.save(&record("blocked", 600)).await.unwrap();
}

#[tokio::test]
async fn namespaces_keep_sessions_and_app_grants_apart() {
    let (_dir, sessions, _) = two_on_sqlite(SqlStoreOptions::new()).await;
    let grants = sessions.namespace("idme_apps").await.unwrap();
    sessions.save(&record("same-id", 600)).await.unwrap();
    assert_eq!(grants.load("same-id").await.unwrap(), None);
    assert_eq!(grants.delete_by_provider_sid("psid").await.unwrap(), 0);
    assert!(grants.lock("k", "a", Duration::from_secs(5)).await.unwrap());
    assert!(
        sessions
            .lock("k", "b", Duration::from_secs(5))
            .await
            .unwrap()
    );
    assert!(sessions.load("same-id").await.unwrap().is_some());
    assert!(matches!(
        sessions.namespace("Robert'); DROP TABLE x;--").await,
        Err(SqlStoreError::InvalidNamespace(_))
    ));
}

#[tokio::test]
async fn the_schema_can_be_run_by_the_applications_own_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/own.db", dir.path().display());
    let options = SqlStoreOptions::new().migrate(false);
    let store = SqlStore::connect_with(&url, options).await.unwrap();
    assert!(store.load("x").await.is_err(), "no tables yet");
    let SqlPool::Sqlite(pool) = store.pool() else {
        unreachable!()
    };
    for statement in SqlStore::schema("idme_sessions")
        .unwrap()
        .split_terminator(";\n")
    {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
    store.save(&record("x", 600)).await.unwrap();
    assert!(store.load("x").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_is_a_store_error_then_recovers_with_every_saved_record() {
    let Some(mut server) = idme_testkit::PostgresServer::start_unless_skipped() else {
        return;
    };
    let options = SqlStoreOptions::new().timeout(Duration::from_millis(500));
    let store = SqlStore::connect_with(&server.url(), options)
        .await
        .unwrap();
    let kept = record("kept", 600);
    store.save(&kept).await.unwrap();
    tokio::task::block_in_place(|| server.stop());
    let started = Instant::now();
    let err = store.load("kept").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{err}");
    tokio::task::block_in_place(|| server.restart());
    // The pool reconnects by itself; the record was committed before the restart.
    let mut recovered = None;
    for _ in 0..50 {
        if let Ok(found) = store.load("kept").await {
            recovered = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recovered, Some(Some(kept)), "recovers, nothing lost");
}

/// Connects `n` stores to `url` at once; each must create (or find) the tables.
async fn connect_together(url: &str, options: SqlStoreOptions, n: usize) {
    let mut starting = Vec::new();
    for _ in 0..n {
        let (url, options) = (url.to_owned(), options.clone());
        starting.push(tokio::spawn(async move {
            SqlStore::connect_with(&url, options).await
        }));
    }
    for store in starting {
        let store = store.await.unwrap().expect("every instance starts");
        store.save(&record("together", 600)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_on_a_new_database_all_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/new.db", dir.path().display());
    connect_together(&url, SqlStoreOptions::new(), 6).await;
    if let Some(server) = postgres::shared() {
        let options = SqlStoreOptions::new()
            .namespace(postgres::fresh_namespace())
            .unwrap();
        connect_together(&server.url(), options, 6).await;
    }
}
