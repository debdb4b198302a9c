//! A logout that lands while a refresh waits at the provider stays a logout with Redis:
//! the refreshed session is written back only if its record is still there.

use std::time::{Duration, Instant};

use idme_core::{Environment, Idme, IdmeBuilder};
use idme_session_redis::RedisStore;
use idme_testkit::{Emulator, EmulatorConfig, Fault, Persona, RedisServer};

use super::common;
use common::{REDIRECT, sign_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_during_a_refresh_stays_a_logout() {
    let redis = RedisServer::start();
    let emulator = Emulator::start(EmulatorConfig {
        redirect_uris: vec![REDIRECT.into()],
        auto_user: Some(Persona::Veteran),
        ..Default::default()
    })
    .await
    .unwrap();
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let config = IdmeBuilder::new()
        .environment(Environment::Custom(emulator.issuer()))
        .client_id(emulator.client_id())
        .client_secret(emulator.client_secret())
        .redirect_uri(REDIRECT)
        // The emulator's access tokens live 300 s: every request refreshes.
        .refresh_margin(Duration::from_secs(400))
        .session_store(store)
        .build()
        .unwrap();
    let idme = Idme::new(config);
    let cookies = sign_in(&idme).await;

    emulator.set_faults([Fault::SlowToken(Duration::from_millis(1500))]);
    let before = emulator.stats().token;
    let refreshing = tokio::spawn({
        let (idme, cookies) = (idme.clone(), cookies.clone());
        async move { idme.authenticate(&cookies).await }
    });
    let waiting = Instant::now();
    while emulator.stats().token <= before {
        assert!(waiting.elapsed() < Duration::from_secs(10), "no refresh");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        idme.logout(&cookies, None, Some("same-origin"))
            .await
            .status,
        303
    );

    let denied = refreshing
        .await
        .unwrap()
        .expect_err("a refresh finishing after the logout must not bring the session back");
    assert!(!denied.is_unavailable());
    emulator.clear_faults();
    let again = idme.authenticate(&cookies).await;
    assert!(again.is_err(), "the record was re-created");
}
