//! Two instances of an app sharing one database (a SQLite file, or Postgres): a sign-in
//! on one works on the other, a logout on the other ends it on the first, and an expiring
//! session is refreshed once for both.

use std::time::Duration;

use idme_core::{Environment, Idme, IdmeBuilder};
use idme_session_sqlx::{SqlStore, SqlStoreOptions};
use idme_testkit::{Emulator, EmulatorConfig, Persona};

use super::common::{REDIRECT, postgres, sign_in};

/// Two engines with the same configuration (keys included), each with its own store
/// (its own pool) on `url`.
async fn two_instances(emulator: &Emulator, url: &str, options: SqlStoreOptions) -> (Idme, Idme) {
    let keys = idme_core::CookieKeys::random();
    let mut engines = Vec::new();
    for _ in 0..2 {
        let store = SqlStore::connect_with(url, options.clone()).await.unwrap();
        let config = IdmeBuilder::new()
            .environment(Environment::Custom(emulator.issuer()))
            .client_id(emulator.client_id())
            .client_secret(emulator.client_secret())
            .redirect_uri(REDIRECT)
            .cookie_keys(keys.clone())
            // Every request is due for a refresh (300 s tokens): both instances write.
            .refresh_margin(Duration::from_secs(400))
            .session_store(store)
            .build()
            .unwrap();
        engines.push(Idme::new(config));
    }
    let b = engines.pop().unwrap();
    (engines.pop().unwrap(), b)
}

async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        redirect_uris: vec![REDIRECT.into()],
        auto_user: Some(Persona::Veteran),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Sign in on A, use it on B (and A), log out on B: ended on A.
async fn shared_sessions(a: &Idme, b: &Idme) {
    let cookies = sign_in(a).await;
    for _ in 0..3 {
        let on_b = b.authenticate(&cookies).await.expect("signed in on B");
        assert_eq!(on_b.user.sub(), Persona::Veteran.sub());
        assert!(a.authenticate(&cookies).await.is_ok());
    }
    let out = b.logout(&cookies, None, Some("same-origin")).await;
    assert_eq!(out.status, 303);
    assert!(b.authenticate(&cookies).await.is_err());
    let ended = std::time::Instant::now();
    loop {
        match a.authenticate(&cookies).await {
            Err(denied) => {
                assert!(!denied.is_unavailable());
                break;
            }
            Ok(_) => assert!(
                ended.elapsed() < Duration::from_secs(1),
                "still signed in on A a second after the logout on B"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_through_one_sqlite_file() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sessions.db", dir.path().display());
    let (a, b) = two_instances(&emulator, &url, SqlStoreOptions::new()).await;
    shared_sessions(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_through_postgres() {
    let Some(server) = postgres::shared() else {
        return;
    };
    let emulator = emulator().await;
    let options = SqlStoreOptions::new()
        .namespace(postgres::fresh_namespace())
        .unwrap();
    let (a, b) = two_instances(&emulator, &server.url(), options).await;
    shared_sessions(&a, &b).await;
}

/// 200 requests split between two instances on an expiring session: one token call
/// (the store's lock is exclusive across them), and every request keeps its session.
async fn refreshed_once(emulator: &Emulator, a: &Idme, b: &Idme) {
    let cookies = sign_in(a).await;
    let before = emulator.stats().token;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let idme = if i % 2 == 0 { a.clone() } else { b.clone() };
        let cookies = cookies.clone();
        tasks.push(tokio::spawn(async move {
            idme.authenticate(&cookies)
                .await
                .map(|a| a.user.sub().to_owned())
        }));
    }
    for task in tasks {
        let sub = task
            .await
            .unwrap()
            .expect("every request keeps its session");
        assert_eq!(sub, Persona::Veteran.sub());
    }
    assert_eq!(emulator.stats().token - before, 1, "one refresh for both");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_sqlite_refresh_an_expiring_session_once() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sessions.db", dir.path().display());
    let (a, b) = two_instances(&emulator, &url, SqlStoreOptions::new()).await;
    refreshed_once(&emulator, &a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_refresh_an_expiring_session_once() {
    let Some(server) = postgres::shared() else {
        return;
    };
    let emulator = emulator().await;
    let options = SqlStoreOptions::new()
        .namespace(postgres::fresh_namespace())
        .unwrap();
    let (a, b) = two_instances(&emulator, &server.url(), options).await;
    refreshed_once(&emulator, &a, &b).await;
}
