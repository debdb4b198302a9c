//! App grants in Redis, under their own prefix, shared by two instances: a device
//! approved on one gets its tokens on the other, once; each instance honours the other's
//! tokens, rotations and revocations, and the cap on a person's grants of a client.

use idme_apps::{AppClients, AppServer};
use idme_core::adapter::{GuardRequest, RequestAuth, Route as Mounted, RouteRequest};
use idme_core::{Environment, Idme, IdmeBuilder, Reply, RequestCookies};
use idme_session_redis::RedisStore;
use idme_testkit::{Emulator, EmulatorConfig, Persona, RedisServer};
use serde_json::Value;

use super::common;
use common::{REDIRECT, sign_in};

async fn two_instances(emulator: &Emulator, redis: &RedisServer) -> (Idme, Idme) {
    two_instances_with(emulator, redis, AppClients::new(["tv"])).await
}

async fn two_instances_with(
    emulator: &Emulator,
    redis: &RedisServer,
    clients: AppClients,
) -> (Idme, Idme) {
    let keys = idme_core::CookieKeys::random();
    let mut engines = Vec::new();
    for _ in 0..2 {
        let sessions = RedisStore::connect(&redis.url()).await.unwrap();
        let grants = sessions.clone().with_prefix("idme:apps:");
        let config = IdmeBuilder::new()
            .environment(Environment::Custom(emulator.issuer()))
            .client_id(emulator.client_id())
            .client_secret(emulator.client_secret())
            .redirect_uri(REDIRECT)
            .cookie_keys(keys.clone())
            .session_store(sessions)
            .build()
            .unwrap();
        let apps = AppServer::new(clients.clone()).with_store(grants);
        engines.push(Idme::builder(config).extension(apps).build().unwrap());
    }
    let b = engines.pop().unwrap();
    (engines.pop().unwrap(), b)
}

async fn call(
    idme: &Idme,
    route: Route,
    post: bool,
    query: Option<&str>,
    body: &str,
    cookies: RequestCookies,
) -> Reply {
    let origin = "http://127.0.0.1:9";
    let header = move |name: &str| (name == "origin").then_some(origin);
    let req = RouteRequest {
        post,
        query,
        header: &header,
        cookies,
        body: body.as_bytes(),
        remote_addr: None,
    };
    let path = route.path();
    let mounted = Mounted::all(idme)
        .into_iter()
        .find(|r| r.path(idme) == path);
    match mounted {
        Some(route) => route.answer(idme, req).await,
        None => panic!("{path} is not mounted"),
    }
}

/// The authorization server's routes the test calls.
#[derive(Debug, Clone, Copy)]
enum Route {
    DeviceCode,
    DevicePage,
    DeviceToken,
    Token,
    Revoke,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Route::DeviceCode => "/auth/device/code",
            Route::DevicePage => "/auth/device",
            Route::DeviceToken => "/auth/device/token",
            Route::Token => "/auth/token",
            Route::Revoke => "/auth/revoke",
        }
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

fn field(body: &str, name: &str) -> String {
    let at = body.find(&format!("name=\"{name}\" value=\"")).expect(name);
    let rest = &body[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}

async fn poll(idme: &Idme, device_code: &str) -> Reply {
    let body = form(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", "tv"),
        ("device_code", device_code),
    ]);
    call(
        idme,
        Route::DeviceToken,
        true,
        None,
        &body,
        RequestCookies::default(),
    )
    .await
}

/// Past the time an instance reuses a bearer user it read (`session_store_cache`, 500 ms
/// by default): a revocation on another instance has taken effect.
const REUSE_BOUND: std::time::Duration = std::time::Duration::from_millis(600);

async fn bearer(idme: &Idme, token: &str) -> Option<String> {
    let header = format!("Bearer {token}");
    let request = GuardRequest {
        idme: Some(idme),
        setup: "test",
        accept: None,
        path_and_query: "/me",
        authorization: Some(&header),
        method: "GET",
        provenance: Default::default(),
        sec_fetch_mode: None,
    };
    let user = RequestAuth::new()
        .user(&request, RequestCookies::default)
        .await;
    user.ok().map(|u| u.json().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_app_grants_through_redis() {
    let redis = RedisServer::start();
    let emulator = Emulator::start(EmulatorConfig {
        redirect_uris: vec![REDIRECT.into()],
        auto_user: Some(Persona::Veteran),
        ..Default::default()
    })
    .await
    .unwrap();
    let (a, b) = two_instances(&emulator, &redis).await;
    let none = RequestCookies::default;

    // The device asks A; the person approves on B; the device polls A and B at once.
    let codes = json(&call(&a, Route::DeviceCode, true, None, "client_id=tv", none()).await);
    let cookies = sign_in(&b).await;
    let query = form(&[("user_code", codes["user_code"].as_str().unwrap())]);
    let page = call(
        &b,
        Route::DevicePage,
        false,
        Some(&query),
        "",
        cookies.clone(),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let decision = form(&[
        ("user_code", &field(&page.body, "user_code")),
        ("csrf", &field(&page.body, "csrf")),
        ("decision", "allow"),
    ]);
    let done = call(
        &b,
        Route::DevicePage,
        true,
        None,
        &decision,
        cookies.clone(),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let dc = codes["device_code"].as_str().unwrap();
    let (on_a, on_b) = tokio::join!(poll(&a, dc), poll(&b, dc));
    let statuses = [on_a.status, on_b.status];
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "tokens once: {statuses:?}"
    );
    let tokens = if on_a.status == 200 {
        json(&on_a)
    } else {
        json(&on_b)
    };
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();

    // Both instances see the same user, the cookie's.
    let user_a = bearer(&a, at).await.expect("A honours the token");
    assert_eq!(bearer(&b, at).await.as_deref(), Some(user_a.as_str()));

    // Rotated on A; the client's retry on B (its response lost) gets the same tokens.
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", rt),
        ("client_id", "tv"),
    ]);
    let rotated = call(&a, Route::Token, true, None, &body, none()).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let retried = call(&b, Route::Token, true, None, &body, none()).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(json(&retried), json(&rotated));
    let new_at = json(&rotated)["access_token"].as_str().unwrap().to_owned();
    assert!(bearer(&b, &new_at).await.is_some());
    // Rotated again on A: the first token presented to B is reuse, and the family ends.
    let next_rt = json(&rotated)["refresh_token"].as_str().unwrap().to_owned();
    let next = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &next_rt),
        ("client_id", "tv"),
    ]);
    let again = call(&a, Route::Token, true, None, &next, none()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let new_at = json(&again)["access_token"].as_str().unwrap().to_owned();
    let reused = call(&b, Route::Token, true, None, &body, none()).await;
    assert_eq!(json(&reused)["error"], "invalid_grant");
    assert!(
        bearer(&a, &new_at).await.is_none(),
        "reuse on B revoked the family on A"
    );

    // A new grant, revoked on B: dead on A.
    let codes = json(&call(&a, Route::DeviceCode, true, None, "client_id=tv", none()).await);
    let query = form(&[("user_code", codes["user_code"].as_str().unwrap())]);
    let page = call(
        &a,
        Route::DevicePage,
        false,
        Some(&query),
        "",
        cookies.clone(),
    )
    .await;
    let decision = form(&[
        ("user_code", &field(&page.body, "user_code")),
        ("csrf", &field(&page.body, "csrf")),
        ("decision", "allow"),
    ]);
    assert_eq!(
        call(
            &a,
            Route::DevicePage,
            true,
            None,
            &decision,
            cookies.clone()
        )
        .await
        .status,
        200
    );
    let tokens = json(&poll(&b, codes["device_code"].as_str().unwrap()).await);
    let at = tokens["access_token"].as_str().unwrap();
    assert!(bearer(&a, at).await.is_some());
    let revoke = form(&[("token", at), ("client_id", "tv")]);
    assert_eq!(
        call(&b, Route::Revoke, true, None, &revoke, none())
            .await
            .status,
        200
    );
    // A reuses a bearer user it read for up to 500 ms (`session_store_cache`).
    tokio::time::sleep(REUSE_BOUND).await;
    assert!(bearer(&a, at).await.is_none());
}

/// A device flow for `tv`: codes from `asked`, the person (of `cookies`) allows on
/// `approver`, the device polls `asked`; the access token.
async fn grant(asked: &Idme, approver: &Idme, cookies: &RequestCookies) -> String {
    let none = RequestCookies::default;
    let codes = json(&call(asked, Route::DeviceCode, true, None, "client_id=tv", none()).await);
    let query = form(&[("user_code", codes["user_code"].as_str().unwrap())]);
    let page = call(
        approver,
        Route::DevicePage,
        false,
        Some(&query),
        "",
        cookies.clone(),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let decision = form(&[
        ("user_code", &field(&page.body, "user_code")),
        ("csrf", &field(&page.body, "csrf")),
        ("decision", "allow"),
    ]);
    let done = call(
        approver,
        Route::DevicePage,
        true,
        None,
        &decision,
        cookies.clone(),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let tokens = poll(asked, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    json(&tokens)["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_on_a_persons_grants_holds_across_instances() {
    let redis = RedisServer::start();
    let emulator = Emulator::start(EmulatorConfig {
        redirect_uris: vec![REDIRECT.into()],
        auto_user: Some(Persona::Veteran),
        ..Default::default()
    })
    .await
    .unwrap();
    let clients = AppClients::new(["tv"]).max_grants_per_client(2);
    let (a, b) = two_instances_with(&emulator, &redis, clients).await;
    let cookies = sign_in(&a).await;
    let first = grant(&a, &b, &cookies).await;
    let second = grant(&b, &a, &cookies).await;
    assert!(bearer(&a, &first).await.is_some());
    // Two more at once, one on each instance: the index is updated under the store's
    // lock, so neither is lost and the two oldest go.
    let (third, fourth) = tokio::join!(grant(&a, &a, &cookies), grant(&b, &b, &cookies));
    let live = [&first, &second, &third, &fourth];
    // A reuses a bearer user it read for up to 500 ms (`session_store_cache`).
    tokio::time::sleep(REUSE_BOUND).await;
    let mut alive = Vec::new();
    for token in live {
        alive.push(bearer(&a, token).await.is_some());
    }
    assert_eq!(alive, [false, false, true, true], "the newest two live");
    assert!(bearer(&b, &third).await.is_some() && bearer(&b, &fourth).await.is_some());
}
