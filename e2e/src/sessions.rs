//! Production-session scenarios, each a function of the example package under test:
//! token refresh through the adapter, OIDC back-channel logout, and two instances sharing
//! sessions through a real `redis-server` (needs the Debian package `redis-server`).

use std::time::{Duration, Instant};

use idme_testkit::browser::Browser;
use idme_testkit::{Emulator, EmulatorConfig, Fault, Persona, RedisServer};

use crate::process::{ExampleApp, Target};
use crate::scenarios::{SESSION, sign_in};

/// `IDME_COOKIE_KEYS` shared by the instances of a test (32 bytes, base64).
const SHARED_KEYS: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
/// Refresh on every request: the emulator's access tokens live 300 s.
const REFRESH_EVERY_REQUEST: &str = "400";
/// A page of the examples that does not look at the session (a 404).
const LANDING: &str = "/landing";

/// A token refresh during a request reaches the browser as a renewed session cookie, set
/// by the adapter on the app's own response.
pub async fn refresh_renews_the_session_cookie(package: &str) {
    let target = Target::start(package, &[("IDME_REFRESH_MARGIN", REFRESH_EVERY_REQUEST)]).await;
    let browser = Browser::api_client();
    sign_in(&browser, &target, LANDING).await;
    let before = browser.cookie(SESSION).expect("signed in");
    let tokens = target.emulator.stats().token;
    let me = browser.get(&target.url("/me")).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(target.emulator.stats().token, tokens + 1, "one refresh");
    let renewed = me.set_cookie(SESSION).expect("the renewed session is set");
    assert!(renewed.contains("HttpOnly") && renewed.contains("SameSite=Lax"));
    assert_ne!(browser.cookie(SESSION).unwrap(), before);
    // A refused refresh ends the session, its cookie cleared.
    let fresh = Browser::api_client();
    sign_in(&fresh, &target, LANDING).await;
    target.emulator.set_faults([Fault::TokenError {
        status: 400,
        body: r#"{"error":"invalid_grant"}"#.into(),
    }]);
    let me = fresh.get(&target.url("/me")).await;
    assert_eq!(me.status, 401, "{}", me.body);
    assert!(
        me.set_cookie(SESSION)
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
}

/// `POST /auth/backchannel-logout` with a valid logout token ends the user's session; a
/// replayed or forged token is refused with 400.
pub async fn backchannel_logout_ends_the_session(package: &str) {
    let target = Target::start(package, &[]).await;
    let browser = Browser::api_client();
    sign_in(&browser, &target, "/me").await;
    assert_eq!(browser.get(&target.url("/me")).await.status, 200);
    let url = target.url("/auth/backchannel-logout");
    let nonce = target
        .emulator
        .logout_token(Persona::Veteran, serde_json::json!({"nonce": "n"}));
    assert_eq!(
        target
            .emulator
            .post_logout_token(&url, &nonce)
            .await
            .unwrap(),
        400
    );
    assert_eq!(browser.get(&target.url("/me")).await.status, 200);
    let token = target
        .emulator
        .logout_token(Persona::Veteran, serde_json::Value::Null);
    assert_eq!(
        target
            .emulator
            .post_logout_token(&url, &token)
            .await
            .unwrap(),
        200
    );
    let me = browser.get(&target.url("/me")).await;
    assert_eq!(me.status, 401, "{}", me.body);
    assert_eq!(
        target
            .emulator
            .post_logout_token(&url, &token)
            .await
            .unwrap(),
        400,
        "replay"
    );
}

/// Two instances of `package` sharing one Redis, one emulator and the same cookie keys.
pub(crate) struct Pair {
    pub(crate) redis: RedisServer,
    pub(crate) emulator: Emulator,
    pub(crate) a: ExampleApp,
    pub(crate) b: ExampleApp,
}

/// Starts a [`Pair`] of `package`.
pub(crate) async fn pair(package: &str) -> Pair {
    pair_with(package, &[]).await
}

/// [`pair`], both instances with `extra` variables too.
pub(crate) async fn pair_with(package: &str, extra: &[(&'static str, String)]) -> Pair {
    let redis = RedisServer::start();
    let (port_a, port_b) = (Target::free_port(), Target::free_port());
    let redirect = |port: u16| format!("http://127.0.0.1:{port}/auth/callback");
    let emulator = Emulator::start(EmulatorConfig {
        redirect_uris: vec![redirect(port_a), redirect(port_b)],
        auto_user: Some(Persona::Veteran),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let env = |port: u16| {
        vec![
            ("IDME_ISSUER", emulator.issuer()),
            ("IDME_CLIENT_ID", emulator.client_id().to_owned()),
            ("IDME_CLIENT_SECRET", emulator.client_secret().to_owned()),
            ("IDME_REDIRECT_URI", redirect(port)),
            ("IDME_SESSION_STORE", redis.url()),
            ("IDME_COOKIE_KEYS", SHARED_KEYS.to_owned()),
            ("IDME_REFRESH_MARGIN", REFRESH_EVERY_REQUEST.to_owned()),
        ]
        .into_iter()
        .chain(extra.iter().cloned())
        .collect::<Vec<_>>()
    };
    let a = ExampleApp::start(package, port_a, &env(port_a)).await;
    let b = ExampleApp::start(package, port_b, &env(port_b)).await;
    Pair {
        redis,
        emulator,
        a,
        b,
    }
}

/// Signs in on `app` (landing on a page that does not touch the session).
pub(crate) async fn sign_in_on(app: &ExampleApp, browser: &Browser) {
    let start = browser
        .get(&app.url(&format!("/auth/login?return_to={LANDING}")))
        .await;
    assert_eq!(start.status, 303, "{}", start.body);
    let end = browser.navigate(start, None).await;
    assert_eq!(end.url.path(), LANDING, "{}", end.body);
    assert!(browser.cookie(SESSION).is_some(), "signed in");
}

/// A browser holding `cookie` as its session.
fn with_session(cookie: &str) -> Browser {
    let b = Browser::api_client();
    b.put_cookie(SESSION, cookie, "/");
    b
}

/// Two instances sharing Redis: a session made on one works on the other; 100 concurrent
/// requests on an expiring session refresh once; a logout on one ends it on both (on the
/// other within a second: each instance reuses a session it read for up to 500 ms); a
/// refused refresh ends it; Redis going away is a 503 within a second (no panic, no
/// logout), and the instances recover when it is back.
pub async fn sessions_shared_through_redis(package: &str) {
    let Pair {
        mut redis,
        emulator,
        a,
        b,
    } = pair(package).await;
    let browser = Browser::api_client();
    sign_in_on(&a, &browser).await;
    let cookie = browser.cookie(SESSION).unwrap();
    assert!(cookie.len() < 300, "only a sealed id in the cookie");

    // 100 concurrent requests on one expiring session: exactly one token call.
    let tokens = emulator.stats().token;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let url = a.url("/me");
        let cookie = cookie.clone();
        tasks.spawn(async move { with_session(&cookie).get(&url).await.status });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(emulator.stats().token, tokens + 1, "single-flight refresh");

    // The other instance knows the session.
    let me = with_session(&cookie).get(&b.url("/me")).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["sub"], Persona::Veteran.sub());

    // Logout on B ends it on both, even for a copy of the cookie: on B at once, on A
    // within a second.
    let out = with_session(&cookie)
        .post_form(&b.url("/auth/logout"), &[])
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    let me = with_session(&cookie).get(&b.url("/me")).await;
    assert_eq!(me.status, 401, "{}: {}", b.base, me.body);
    let logged_out = Instant::now();
    loop {
        let me = with_session(&cookie).get(&a.url("/me")).await;
        if me.status == 401 {
            break;
        }
        assert_eq!(me.status, 200, "{}", me.body);
        assert!(
            logged_out.elapsed() < Duration::from_secs(1),
            "{}: still signed in a second after the logout on the other instance",
            a.base
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A refused refresh ends the session.
    let browser = Browser::api_client();
    sign_in_on(&a, &browser).await;
    emulator.set_faults([Fault::TokenError {
        status: 400,
        body: r#"{"error":"invalid_grant"}"#.into(),
    }]);
    let me = browser.get(&b.url("/me")).await;
    assert_eq!(me.status, 401, "{}", me.body);
    emulator.clear_faults();

    // Redis restarting: 503 with a clear message, then recovery.
    let browser = Browser::api_client();
    sign_in_on(&a, &browser).await;
    assert_eq!(browser.get(&a.url("/me")).await.status, 200);
    redis.stop();
    // Within a second (a session read less than 500 ms ago is still used).
    let stopped = Instant::now();
    let me = loop {
        let me = browser.get(&a.url("/me")).await;
        if me.status != 200 || stopped.elapsed() > Duration::from_secs(1) {
            break me;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(me.status, 503, "{}", me.body);
    assert_eq!(me.json()["message"], "Sessions are temporarily unavailable");
    assert!(me.set_cookie(SESSION).is_none(), "no logout on an outage");
    redis.restart();
    // The restarted Redis is empty (no persistence): the session is gone, cleanly.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = browser.get(&a.url("/me")).await.status;
        if status == 401 {
            break;
        }
        assert_eq!(status, 503, "only 503 until Redis is back");
        assert!(Instant::now() < deadline, "no recovery within 15 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let browser = Browser::api_client();
    sign_in_on(&b, &browser).await;
    assert_eq!(browser.get(&a.url("/me")).await.status, 200, "recovered");
    a.stop().await;
    b.stop().await;
}
