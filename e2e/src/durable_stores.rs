//! Stores that outlive the process, black-box with the example apps: app grants in the
//! default SQLite file survive a `SIGKILL` and a restart; two instances sharing one SQLite
//! file or one Postgres (`IDME_SESSION_STORE=sqlite://…`, `postgres://…`) share sessions
//! and app grants, which survive both being killed; so do Redis Cluster and Sentinel, and
//! behind Sentinel the master killed under load costs errors only during the failover.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use idme_testkit::browser::Browser;
use idme_testkit::{Emulator, EmulatorConfig, Persona, PostgresServer};

use crate::apps::{device_tokens, get_bearer, refresh};
use crate::process::{ExampleApp, Target, target_dir};
use crate::scenarios::SESSION;

/// `IDME_COOKIE_KEYS` kept across the restart and shared by the instances (32 bytes).
const KEYS: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A directory of this test's own, under `target/<profile>/e2e-data`.
fn data_dir(package: &str, what: &str) -> PathBuf {
    let dir = target_dir().join("e2e-data").join(format!(
        "{package}-{what}-{}-{}",
        std::process::id(),
        Target::free_port()
    ));
    std::fs::create_dir_all(&dir).expect("a data directory");
    dir
}

/// An emulator that signs `veteran` in and accepts the callbacks of `ports`.
async fn emulator(ports: &[u16]) -> Emulator {
    Emulator::start(EmulatorConfig {
        redirect_uris: ports.iter().map(|p| redirect(*p)).collect(),
        auto_user: Some(Persona::Veteran),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

fn redirect(port: u16) -> String {
    format!("http://127.0.0.1:{port}/auth/callback")
}

/// The environment of an instance on `port`, plus `extra`.
fn env(
    emulator: &Emulator,
    port: u16,
    extra: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("IDME_ISSUER", emulator.issuer()),
        ("IDME_CLIENT_ID", emulator.client_id().to_owned()),
        ("IDME_CLIENT_SECRET", emulator.client_secret().to_owned()),
        ("IDME_REDIRECT_URI", redirect(port)),
        ("IDME_COOKIE_KEYS", KEYS.to_owned()),
    ];
    env.extend(extra.iter().cloned());
    env
}

/// With no app store configured, a device's tokens live in the SQLite file of the data
/// directory: the app killed (`SIGKILL`) and started again still honours them.
pub async fn app_grants_survive_a_restart(package: &str) {
    let dir = data_dir(package, "restart");
    let port = Target::free_port();
    let emulator = emulator(&[port]).await;
    let env = env(
        &emulator,
        port,
        &[("IDME_DATA_DIR", dir.display().to_string())],
    );
    let app = ExampleApp::start(package, port, &env).await;
    let tokens = device_tokens(&app.base, &Browser::new(), &[]).await;
    assert_eq!(
        get_bearer(&app.url("/me"), &tokens.access).await.status,
        200
    );
    app.stop().await;
    assert!(
        dir.join("app-grants.db").exists(),
        "the default grants file"
    );

    let app = ExampleApp::start(package, port, &env).await;
    let me = get_bearer(&app.url("/me"), &tokens.access).await;
    assert_eq!(me.status, 200, "the device stays signed in: {}", me.body);
    assert_eq!(me.json()["sub"], Persona::Veteran.sub());
    let rotated = refresh(&app.base, &tokens.refresh).await;
    assert_eq!(
        rotated.status, 200,
        "its refresh token too: {}",
        rotated.body
    );
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A browser holding `cookie` as its session.
fn with_session(cookie: &str) -> Browser {
    let b = Browser::api_client();
    b.put_cookie(SESSION, cookie, "/");
    b
}

/// Two instances on one SQLite file: see `shared_through`.
pub async fn sessions_shared_through_sqlite(package: &str) {
    let dir = data_dir(package, "shared");
    shared_through(
        package,
        format!("sqlite://{}", dir.join("sessions.db").display()),
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two instances on one Postgres (started by the test): see `shared_through`. Passes
/// without running when Postgres is missing and `IDME_SKIP_POSTGRES=1`.
pub async fn sessions_shared_through_postgres(package: &str) {
    let Some(postgres) = PostgresServer::start_unless_skipped() else {
        return;
    };
    shared_through(package, postgres.url()).await;
}

/// Two instances on one Redis Cluster (three masters, three replicas, started by the
/// test): see `shared_through`.
pub async fn sessions_shared_through_redis_cluster(package: &str) {
    let cluster = tokio::task::spawn_blocking(idme_testkit::RedisCluster::start)
        .await
        .expect("the cluster starts");
    shared_through(package, cluster.url()).await;
}

/// Two instances on the master a Redis Sentinel names (started by the test): see
/// `shared_through`.
pub async fn sessions_shared_through_redis_sentinel(package: &str) {
    let sentinel = tokio::task::spawn_blocking(idme_testkit::RedisSentinel::start)
        .await
        .expect("the Sentinel set-up starts");
    shared_through(package, sentinel.url()).await;
}

/// Two instances with `IDME_SESSION_STORE=store`: a sign-in on A works on B, a logout on
/// B ends it on A (within a second), a device's tokens from A are honoured on B, and
/// still after both are killed (`SIGKILL`) and A is started again.
async fn shared_through(package: &str, store: String) {
    let (port_a, port_b) = (Target::free_port(), Target::free_port());
    let emulator = emulator(&[port_a, port_b]).await;
    let extra = [("IDME_SESSION_STORE", store)];
    let (env_a, env_b) = (
        env(&emulator, port_a, &extra),
        env(&emulator, port_b, &extra),
    );
    let a = ExampleApp::start(package, port_a, &env_a).await;
    let b = ExampleApp::start(package, port_b, &env_b).await;

    let cookie = sign_in(&a).await;
    assert!(cookie.len() < 300, "only a sealed id in the cookie");
    let me = with_session(&cookie).get(&b.url("/me")).await;
    assert_eq!(me.status, 200, "A's session on B: {}", me.body);

    let out = with_session(&cookie)
        .post_form(&b.url("/auth/logout"), &[])
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(with_session(&cookie).get(&b.url("/me")).await.status, 401);
    let logged_out = Instant::now();
    while with_session(&cookie).get(&a.url("/me")).await.status != 401 {
        assert!(
            logged_out.elapsed() < Duration::from_secs(1),
            "still signed in on A a second after the logout on B"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // App grants beside the sessions, in the same store.
    let tokens = device_tokens(&a.base, &Browser::new(), &[]).await;
    let me = get_bearer(&b.url("/me"), &tokens.access).await;
    assert_eq!(me.status, 200, "A's device token on B: {}", me.body);

    // Both killed; A again: the device stays signed in.
    a.stop().await;
    b.stop().await;
    let a = ExampleApp::start(package, port_a, &env_a).await;
    let me = get_bearer(&a.url("/me"), &tokens.access).await;
    assert_eq!(me.status, 200, "after a restart: {}", me.body);
    a.stop().await;
}

/// The offline emulator mode (nothing configured) keeps its cookie key, emulator port and
/// client id in the data directory: after `SIGKILL` and a restart the browser is still
/// signed in, and the device's tokens are still honoured.
pub async fn offline_mode_survives_a_restart(package: &str) {
    let dir = data_dir(package, "offline");
    let port = Target::free_port();
    let env = [
        ("IDME_TESTKIT_USER", "veteran".to_owned()),
        ("IDME_DATA_DIR", dir.display().to_string()),
    ];
    let app = ExampleApp::start(package, port, &env).await;
    assert!(app.output().contains("emulator"), "{}", app.output());
    let browser = Browser::new();
    let start = browser.get(&app.url("/auth/login?return_to=/me")).await;
    let me = browser.navigate(start, None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let tokens = device_tokens(&app.base, &Browser::new(), &[]).await;
    app.stop().await;
    assert!(dir.join("offline-emulator.json").exists());

    let app = ExampleApp::start(package, port, &env).await;
    let me = browser.get(&app.url("/me")).await;
    assert_eq!(me.status, 200, "still signed in: {}", me.body);
    assert_eq!(me.json()["sub"], Persona::Veteran.sub());
    let me = get_bearer(&app.url("/me"), &tokens.access).await;
    assert_eq!(me.status, 200, "the device too: {}", me.body);
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Concurrent clients hammering `GET /me` during [`sessions_survive_a_sentinel_failover_under_load`].
const LOAD_TASKS: usize = 4;
/// Sessions signed in before the failover, shared by the load clients.
const LOAD_SESSIONS: usize = 5;
/// The load clients' timeout per request: no answer by then is a failure (status 0).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The slowest answer allowed: the store's timeout per call is 2 s, and a call lost to the
/// dead master is retried once after asking the Sentinel again; nothing waits longer.
const MAX_LATENCY: Duration = Duration::from_secs(5);
/// How long after `wait_for_failover` returned errors may still be answered. The store
/// learns of the new master only on its next failing call, and requests already in flight
/// then (on the dead connection, up to a store timeout of 2 s) finish after it.
const FAILOVER_MARGIN: Duration = Duration::from_secs(2);
/// Load after that margin, which must all succeed.
const FULL_SERVICE: Duration = Duration::from_secs(3);
/// The fewest answers after the margin for "full service" to mean something.
const MIN_AFTER: usize = 200;

/// One answer to `GET /me` under load: when it was sent and answered (since the load
/// began), its status (`0`: a timeout or connection error), and whether it cleared the
/// session cookie.
#[derive(Debug, Clone, Copy)]
struct Answer {
    sent: Duration,
    answered: Duration,
    status: u16,
    cleared: bool,
}

/// Signs a new browser in on `app`; its session cookie.
async fn sign_in(app: &ExampleApp) -> String {
    let browser = Browser::api_client();
    crate::sessions::sign_in_on(app, &browser).await;
    browser.cookie(SESSION).expect("signed in")
}

/// One load client: `GET /me` with each of `cookies` in turn until `stop`, every answer
/// recorded.
async fn hammer(
    me: String,
    cookies: Vec<String>,
    t0: Instant,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<Answer> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("a plain reqwest client builds");
    let mut answers = Vec::new();
    for cookie in cookies.iter().cycle() {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let sent = t0.elapsed();
        let reply = client
            .get(&me)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::COOKIE, format!("{SESSION}={cookie}"))
            .send()
            .await;
        let (status, cleared) = match reply {
            Ok(r) => {
                let cleared = r
                    .headers()
                    .get_all(reqwest::header::SET_COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|c| c.starts_with(&format!("{SESSION}=")) && c.contains("Max-Age=0"));
                let status = r.status().as_u16();
                // The whole answer, not just its head.
                let status = if r.bytes().await.is_ok() { status } else { 0 };
                (status, cleared)
            }
            Err(_) => (0, false),
        };
        answers.push(Answer {
            sent,
            answered: t0.elapsed(),
            status,
            cleared,
        });
    }
    answers
}

/// The Redis master behind Sentinel is killed (`SIGKILL`) while clients hammer `GET /me`
/// with sessions signed in more than a second before: every answer is `200` or `503`
/// (never `401` or `500`, never a cleared cookie, never slower than `MAX_LATENCY`); the
/// `503`s fall between the kill and `FAILOVER_MARGIN` after the Sentinel promoted the
/// replica; after that every request succeeds, without restarting the app; every session
/// is still signed in, and a new sign-in works. The examples keep a session read from the
/// store for 500 ms (`session_store_cache`), so each session reaches the store about twice a
/// second: most answers during the failover come from that copy, and the `503`s are those
/// that had to ask the store.
pub async fn sessions_survive_a_sentinel_failover_under_load(package: &str) {
    let mut sentinel = tokio::task::spawn_blocking(idme_testkit::RedisSentinel::start)
        .await
        .expect("the Sentinel set-up starts");
    let port = Target::free_port();
    let emulator = emulator(&[port]).await;
    let env = env(&emulator, port, &[("IDME_SESSION_STORE", sentinel.url())]);
    let app = ExampleApp::start(package, port, &env).await;
    let mut cookies = Vec::new();
    for _ in 0..LOAD_SESSIONS {
        cookies.push(sign_in(&app).await);
    }
    // Replicated (and past the session cache): written more than a second before.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let old_master = sentinel.master_port();

    let t0 = Instant::now();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..LOAD_TASKS)
        .map(|i| {
            let mut mine = cookies.clone();
            mine.rotate_left(i % cookies.len());
            tokio::spawn(hammer(app.url("/me"), mine, t0, stop.clone()))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (sentinel_back, killed, failed_over) = tokio::task::spawn_blocking(move || {
        let killed = t0.elapsed();
        sentinel.kill_master();
        sentinel.wait_for_failover();
        (sentinel, killed, t0.elapsed())
    })
    .await
    .expect("the failover happens");
    sentinel = sentinel_back;
    let window_end = failed_over + FAILOVER_MARGIN;
    tokio::time::sleep((window_end + FULL_SERVICE).saturating_sub(t0.elapsed())).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answers = Vec::new();
    for task in load {
        answers.extend(task.await.expect("a load client"));
    }
    answers.sort_by_key(|a| a.sent);
    assert_ne!(
        sentinel.master_port(),
        old_master,
        "the replica was promoted"
    );

    let failed: Vec<&Answer> = answers.iter().filter(|a| a.status != 200).collect();
    let after: Vec<&Answer> = answers.iter().filter(|a| a.sent > window_end).collect();
    let slowest = answers
        .iter()
        .map(|a| a.answered - a.sent)
        .max()
        .unwrap_or_default();
    let since_kill = |a: &Answer| a.answered.as_secs_f64() - killed.as_secs_f64();
    let errors = match (failed.first(), failed.last()) {
        (Some(first), Some(last)) => format!(
            "from {:.2} s to {:.2} s after the kill",
            since_kill(first),
            since_kill(last)
        ),
        _ => "none".to_owned(),
    };
    let during = answers
        .iter()
        .filter(|a| a.answered >= killed && a.sent <= window_end)
        .count();
    println!(
        "{package}: {} requests ({} in the window, {} after it), {} failed ({} after it); \
         the failover took {:.2} s (window with the margin {:.2} s); errors {errors}; \
         slowest answer {slowest:?}",
        answers.len(),
        during,
        after.len(),
        failed.len(),
        after.iter().filter(|a| a.status != 200).count(),
        (failed_over - killed).as_secs_f64(),
        (window_end - killed).as_secs_f64(),
    );
    for a in &answers {
        let at = a.answered.as_secs_f64() - killed.as_secs_f64();
        assert!(
            matches!(a.status, 200 | 503),
            "GET /me answered {} at {at:.2} s after the kill (0: no answer)",
            a.status
        );
        assert!(
            !a.cleared,
            "the session cookie was cleared at {at:.2} s after the kill"
        );
        assert!(
            a.answered - a.sent < MAX_LATENCY,
            "GET /me took {:?} at {at:.2} s after the kill",
            a.answered - a.sent
        );
        if a.status != 200 {
            assert!(
                a.answered >= killed && a.answered <= window_end,
                "an error outside the failover window: {at:.2} s after the kill, the failover \
                 done {:.2} s after it",
                (failed_over - killed).as_secs_f64()
            );
        }
    }
    assert!(
        after.len() >= MIN_AFTER,
        "only {} requests after the failover",
        after.len()
    );

    for cookie in &cookies {
        let me = with_session(cookie).get(&app.url("/me")).await;
        assert_eq!(me.status, 200, "still signed in: {}", me.body);
    }
    let fresh = sign_in(&app).await;
    let me = with_session(&fresh).get(&app.url("/me")).await;
    assert_eq!(me.status, 200, "a sign-in after the failover: {}", me.body);
    app.stop().await;
}
