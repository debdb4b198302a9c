//! Two instances of an app sharing one Redis: a session's tokens are refreshed once for
//! both, and a logout on one ends the session on the other within a second.

use std::time::{Duration, Instant};

use idme_core::{Environment, Idme, IdmeBuilder};
use idme_session_redis::RedisStore;
use idme_testkit::{Emulator, EmulatorConfig, Persona, RedisServer};

use super::common;
use common::{REDIRECT, sign_in};

/// Two engines with the same configuration (keys included) and one Redis.
async fn two_instances(
    emulator: &Emulator,
    redis: &RedisServer,
    refresh_margin: Duration,
) -> (Idme, Idme) {
    let keys = idme_core::CookieKeys::random();
    let mut engines = Vec::new();
    for _ in 0..2 {
        let store = RedisStore::connect(&redis.url()).await.unwrap();
        let config = IdmeBuilder::new()
            .environment(Environment::Custom(emulator.issuer()))
            .client_id(emulator.client_id())
            .client_secret(emulator.client_secret())
            .redirect_uri(REDIRECT)
            .cookie_keys(keys.clone())
            .refresh_margin(refresh_margin)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_refresh_an_expiring_session_once() {
    let redis = RedisServer::start();
    let emulator = emulator().await;
    // The emulator's access tokens live 300 s: with a 400 s margin every session is due.
    let (a, b) = two_instances(&emulator, &redis, Duration::from_secs(400)).await;
    let cookies = sign_in(&a).await;
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
    assert_eq!(
        emulator.stats().token - before,
        1,
        "200 requests on two instances: one refresh"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_ends_the_session_on_the_other_within_a_second() {
    let redis = RedisServer::start();
    let emulator = emulator().await;
    // Every request is due for a refresh (300 s tokens, a 400 s margin), so each one
    // reuses the refresh's outcome: that must not keep B's copy alive.
    let (a, b) = two_instances(&emulator, &redis, Duration::from_secs(400)).await;
    let cookies = sign_in(&a).await;
    // B has the session, and keeps a local copy of it.
    for _ in 0..3 {
        assert!(b.authenticate(&cookies).await.is_ok());
    }
    let out = a.logout(&cookies, None, Some("same-origin")).await;
    assert_eq!(out.status, 303);
    assert!(
        a.authenticate(&cookies).await.is_err(),
        "at once where it happened"
    );
    let logged_out = Instant::now();
    loop {
        match b.authenticate(&cookies).await {
            Err(denied) => {
                assert!(!denied.is_unavailable());
                break;
            }
            Ok(_) => assert!(
                logged_out.elapsed() < Duration::from_secs(1),
                "still signed in on the other instance a second after the logout"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
