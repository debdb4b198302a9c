//! App grants in SQL tables of their own: kept across a restart (the SQLite file the
//! examples default to), and shared by two instances (Postgres): a device approved on
//! one gets its tokens on the other, and a revocation on one holds on the other.

use idme_apps::{AppClients, AppServer};
use idme_core::adapter::{GuardRequest, RequestAuth, Route as Mounted, RouteRequest};
use idme_core::{CookieKeys, Environment, Idme, IdmeBuilder, Reply, RequestCookies};
use idme_session_sqlx::{SqlStore, SqlStoreOptions};
use idme_testkit::{Emulator, EmulatorConfig, Persona};
use serde_json::Value;

use super::common::{REDIRECT, postgres, sign_in};

/// An engine with sessions in the cookie (as the examples by default) and app grants in
/// `grants`.
fn instance(emulator: &Emulator, keys: &CookieKeys, grants: SqlStore) -> Idme {
    let config = IdmeBuilder::new()
        .environment(Environment::Custom(emulator.issuer()))
        .client_id(emulator.client_id())
        .client_secret(emulator.client_secret())
        .redirect_uri(REDIRECT)
        .cookie_keys(keys.clone())
        .build()
        .unwrap();
    let apps = AppServer::new(AppClients::new(["tv"])).with_store(grants);
    Idme::builder(config).extension(apps).build().unwrap()
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

/// Answers a POST (or GET) to the mounted route at `path`.
async fn call(idme: &Idme, path: &str, post: bool, body: &str, cookies: RequestCookies) -> Reply {
    let header = |name: &str| (name == "origin").then_some("http://127.0.0.1:9");
    let (query, body) = if post { (None, body) } else { (Some(body), "") };
    let req = RouteRequest {
        post,
        query,
        header: &header,
        cookies,
        body: body.as_bytes(),
        remote_addr: None,
    };
    let route = Mounted::all(idme)
        .into_iter()
        .find(|r| r.path(idme) == path)
        .unwrap_or_else(|| panic!("{path} is not mounted"));
    route.answer(idme, req).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut out = Vec::new();
    for (k, v) in pairs {
        let v: String = v
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        out.push(format!("{k}={v}"));
    }
    out.join("&")
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

fn field(body: &str, name: &str) -> String {
    let at = body.find(&format!("name=\"{name}\" value=\"")).expect(name);
    let rest = &body[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}

/// A device flow for `tv`: codes from `asked`, the person of `cookies` allows on
/// `approver`, the device polls `asked`; the access token.
async fn grant(asked: &Idme, approver: &Idme, cookies: &RequestCookies) -> String {
    let none = RequestCookies::default;
    let codes = json(&call(asked, "/auth/device/code", true, "client_id=tv", none()).await);
    let query = form(&[("user_code", codes["user_code"].as_str().unwrap())]);
    let page = call(approver, "/auth/device", false, &query, cookies.clone()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let decision = form(&[
        ("user_code", &field(&page.body, "user_code")),
        ("csrf", &field(&page.body, "csrf")),
        ("decision", "allow"),
    ]);
    let done = call(approver, "/auth/device", true, &decision, cookies.clone()).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let poll = form(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", "tv"),
        ("device_code", codes["device_code"].as_str().unwrap()),
    ]);
    let tokens = call(asked, "/auth/device/token", true, &poll, none()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    json(&tokens)["access_token"].as_str().unwrap().to_owned()
}

/// Whether `idme` accepts `token` as a bearer token.
async fn accepted(idme: &Idme, token: &str) -> bool {
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
    RequestAuth::new()
        .user(&request, RequestCookies::default)
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_grant_in_a_sqlite_file_survives_a_restart() {
    let emulator = emulator().await;
    let keys = CookieKeys::random();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/app-grants.db", dir.path().display());
    let options = || SqlStoreOptions::new().namespace("idme_apps").unwrap();

    let before = instance(
        &emulator,
        &keys,
        SqlStore::connect_with(&url, options()).await.unwrap(),
    );
    let cookies = sign_in(&before).await;
    let token = grant(&before, &before, &cookies).await;
    assert!(accepted(&before, &token).await);
    drop(before);

    // The process restarts: a new engine and store on the same file and keys.
    let after = instance(
        &emulator,
        &keys,
        SqlStore::connect_with(&url, options()).await.unwrap(),
    );
    assert!(accepted(&after, &token).await, "the device stays signed in");
    assert!(!accepted(&after, "not-a-token").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_app_grants_through_postgres() {
    let Some(server) = postgres::shared() else {
        return;
    };
    let emulator = emulator().await;
    let keys = CookieKeys::random();
    let options = SqlStoreOptions::new()
        .namespace(postgres::fresh_namespace())
        .unwrap();
    let mut engines = Vec::new();
    for _ in 0..2 {
        let store = SqlStore::connect_with(&server.url(), options.clone())
            .await
            .unwrap();
        engines.push(instance(&emulator, &keys, store));
    }
    let (a, b) = (&engines[0], &engines[1]);
    let cookies = sign_in(a).await;
    // Asked on A, approved on B; honoured on both.
    let token = grant(a, b, &cookies).await;
    assert!(accepted(a, &token).await && accepted(b, &token).await);
    // Revoked on B: dead on A.
    let revoke = form(&[("token", &token), ("client_id", "tv")]);
    let revoked = call(b, "/auth/revoke", true, &revoke, RequestCookies::default()).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    // A reuses a bearer user it read for up to 500 ms (`session_store_cache`).
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(!accepted(a, &token).await, "revoked on B");
}
