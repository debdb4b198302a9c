//! Stores that outlive the process, black-box with the example apps: app grants in the
//! default SQLite file survive a `SIGKILL` and a restart; two instances sharing one SQLite
//! file or one Postgres (`IDME_SESSION_STORE=sqlite://…`, `postgres://…`) share sessions
//! and app grants, which survive both being killed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use idme_testkit::browser::Browser;
use idme_testkit::{Emulator, EmulatorConfig, Persona, PostgresServer};

use crate::apps::{device_tokens, get_bearer, refresh};
use crate::process::{ExampleApp, Target, target_dir};
use crate::scenarios::SESSION;

/// `IDME_COOKIE_KEYS` kept across the restart and shared by the instances (32 bytes).
const KEYS: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
/// A page of the examples that does not look at the session (a 404).
const LANDING: &str = "/landing";

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

    let browser = Browser::api_client();
    let start = browser
        .get(&a.url(&format!("/auth/login?return_to={LANDING}")))
        .await;
    assert_eq!(start.status, 303, "{}", start.body);
    let end = browser.navigate(start, None).await;
    assert_eq!(end.url.path(), LANDING, "{}", end.body);
    let cookie = browser.cookie(SESSION).expect("signed in on A");
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
