//! Limits that one party cannot race past nor turn against others: user-code guesses
//! (reserved before the lookup, per person only), device codes (per address, per
//! client, then for the instance), grants per person and client, and the rates of
//! `/auth/authorize` and `/auth/token` per person and client.

use super::common;
use super::probe;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::apps::*;
use idme_apps::AppServer;
use idme_core::Reply;
use idme_testkit::Persona;
use idme_testkit::pair::{Browser, Pair};
use probe::Probe;
use serde_json::Value;

const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// The `i`-th well-formed user code, `BBBB-` and four letters (none is ever issued in
/// these tests but by chance).
fn wrong_code(i: usize) -> String {
    let letter = |n: usize| char::from(ALPHABET[(i / 20usize.pow(n as u32)) % 20]);
    format!("BBBB-{}{}{}{}", letter(3), letter(2), letter(1), letter(0))
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// `n` guesses of wrong codes by the person of `browser`, all at once.
async fn guesses_at_once(pair: &Pair, browser: &Browser, n: usize) -> Vec<u16> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (pair, mut browser) = (pair.clone(), browser.clone());
            tokio::spawn(async move { page_for(&pair, &mut browser, &wrong_code(i)).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("the guess"));
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_wrong_guesses_at_once_by_one_person_look_up_five_codes_at_most() {
    let probe = Probe::default();
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(probe.clone()),
        |b| b,
    )
    .await;
    let browser = pair.sign_in().await;
    let statuses = guesses_at_once(&pair, &browser, 50).await;
    let wrong = statuses.iter().filter(|s| **s == 400).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    let looked_up = probe.knobs.user_code_loads.load(Ordering::SeqCst);
    assert!(
        wrong <= 5 && looked_up <= 5,
        "{wrong} wrong codes answered, {looked_up} looked up"
    );
    assert_eq!(wrong + refused, 50, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_persons_flood_of_guesses_never_locks_another_person_out() {
    let probe = Probe::default();
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients()).with_store(probe.clone()),
        |b| b,
    )
    .await;
    let veteran = pair.sign_in().await;
    guesses_at_once(&pair, &veteran, 150).await;
    for persona in [Persona::Student, Persona::Teacher, Persona::Unverified] {
        pair.emulator.set_auto_user(Some(persona));
        let mut other = pair.sign_in().await;
        for i in 0..5 {
            assert_eq!(
                page_for(&pair, &mut other, &wrong_code(i)).await.status,
                400
            );
        }
    }
    pair.emulator.set_auto_user(Some(Persona::MilitarySpouse));
    let mut spouse = pair.sign_in().await;
    let codes = device_code(&pair, DEVICE, None).await;
    let page = page_for(&pair, &mut spouse, s(&codes, "user_code")).await;
    assert_eq!(page.status, 200, "{}", page.body);
}

async fn device_code_from(pair: &Pair, addr: &str) -> Reply {
    let headers = [("x-remote-addr", addr)];
    let body = form(&[("client_id", DEVICE)]);
    call(pair, Route::DeviceCode, true, None, &body, &headers, None).await
}

#[tokio::test]
async fn one_address_flooding_device_codes_leaves_other_addresses_theirs() {
    let pair = rig().await;
    let mut last = None;
    for _ in 0..1_001 {
        last = Some(device_code_from(&pair, "203.0.113.9").await);
    }
    let last = last.unwrap();
    assert_eq!(
        error(&last),
        (429, "temporarily_unavailable".into()),
        "the flooder is held back"
    );
    assert!(last.header("retry-after").is_some());
    let other = device_code_from(&pair, "198.51.100.4").await;
    assert_eq!(other.status, 200, "{}", other.body);
    // An IPv6 network is one party, whatever the interface id.
    let mut given = 0;
    for i in 0..100 {
        let reply = device_code_from(&pair, &format!("2001:db8:1:2::{i:x}")).await;
        given += usize::from(reply.status == 200);
    }
    assert!(given < 100, "{given} codes to one /64");
    let same_net = device_code_from(&pair, "2001:db8:1:2:ffff::1").await;
    assert_eq!(same_net.status, 429, "{}", same_net.body);
    let next_net = device_code_from(&pair, "2001:db8:1:3::1").await;
    assert_eq!(next_net.status, 200, "{}", next_net.body);
    // The window ends.
    pair.advance(Duration::from_secs(60));
    assert_eq!(device_code_from(&pair, "203.0.113.9").await.status, 200);
}

#[tokio::test]
async fn a_person_holds_ten_grants_per_client_and_the_oldest_goes_first() {
    let pair = rig().await;
    let mut grants = Vec::new();
    for _ in 0..11 {
        grants.push(approved(&pair, DEVICE, None).await.1);
    }
    let (_, native) = approved(&pair, NATIVE, None).await;
    assert_invalid_token(
        &bearer(&pair, s(&grants[0], "access_token"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        error(&refresh(&pair, DEVICE, s(&grants[0], "refresh_token")).await),
        (400, "invalid_grant".into())
    );
    for live in &grants[1..] {
        assert!(bearer(&pair, s(live, "access_token")).await.is_ok());
    }
    assert!(
        bearer(&pair, s(&native, "access_token")).await.is_ok(),
        "another client's grants are counted apart"
    );
    // Another person's grants are counted apart too.
    pair.emulator.set_auto_user(Some(Persona::Student));
    let (_, student) = approved(&pair, DEVICE, None).await;
    assert!(bearer(&pair, s(&student, "access_token")).await.is_ok());
    assert!(bearer(&pair, s(&grants[1], "access_token")).await.is_ok());
}

#[tokio::test]
async fn the_grant_cap_is_a_setting_and_a_revoked_grant_frees_its_place() {
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients().max_grants_per_client(2)),
        |b| b,
    )
    .await;
    let (_, a) = approved(&pair, DEVICE, None).await;
    let (_, b) = approved(&pair, DEVICE, None).await;
    // A refresh keeps the grant, and its place.
    let b = json(&refresh(&pair, DEVICE, s(&b, "refresh_token")).await);
    let revoke = form(&[("token", s(&a, "refresh_token")), ("client_id", DEVICE)]);
    assert_eq!(post(&pair, Route::Revoke, &revoke).await.status, 200);
    let (_, c) = approved(&pair, DEVICE, None).await;
    assert!(bearer(&pair, s(&b, "access_token")).await.is_ok());
    assert!(bearer(&pair, s(&c, "access_token")).await.is_ok());
    let (_, d) = approved(&pair, DEVICE, None).await;
    assert_invalid_token(&bearer(&pair, s(&b, "access_token")).await.unwrap_err());
    assert!(bearer(&pair, s(&c, "access_token")).await.is_ok());
    assert!(bearer(&pair, s(&d, "access_token")).await.is_ok());
}

const CHALLENGE: &str = "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc";
const LOOPBACK: &str = "http://127.0.0.1:51234/callback";

/// The `error` the app hears back from `/auth/authorize` for `client` once the person
/// allows it on the consent page, if any.
async fn authorize_error(pair: &Pair, browser: &mut Browser, client: &str) -> Option<String> {
    let query = form(&[
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", LOOPBACK),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let reply = call(
        pair,
        Route::Authorize,
        false,
        Some(&query),
        "",
        &[],
        Some(browser),
    )
    .await;
    let reply = consent(pair, browser, &reply, "allow").await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let to = url::Url::parse(&location(&reply)).unwrap();
    let error = to.query_pairs().find(|(k, _)| k == "error");
    error.map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn authorize_is_limited_per_person_and_client() {
    let other = idme_apps::AppClient::new("other-app").redirect_uri("http://127.0.0.1/callback");
    let pair = rig_with(
        Persona::Veteran,
        AppServer::new(clients().client(other)),
        |b| b,
    )
    .await;
    let mut browser = pair.sign_in().await;
    for i in 0..30 {
        assert_eq!(
            authorize_error(&pair, &mut browser, NATIVE).await,
            None,
            "{i}"
        );
    }
    assert_eq!(
        authorize_error(&pair, &mut browser, NATIVE)
            .await
            .as_deref(),
        Some("temporarily_unavailable")
    );
    assert_eq!(
        authorize_error(&pair, &mut browser, "other-app").await,
        None
    );
    pair.emulator.set_auto_user(Some(Persona::Student));
    let mut student = pair.sign_in().await;
    assert_eq!(authorize_error(&pair, &mut student, NATIVE).await, None);
    pair.advance(Duration::from_secs(60));
    assert_eq!(authorize_error(&pair, &mut browser, NATIVE).await, None);
}

#[tokio::test]
async fn refreshes_are_limited_per_person_and_client_without_burning_the_token() {
    let pair = rig().await;
    let (_, mut tokens) = approved(&pair, DEVICE, None).await;
    for i in 0..30 {
        let reply = refresh(&pair, DEVICE, s(&tokens, "refresh_token")).await;
        assert_eq!(reply.status, 200, "{i}: {}", reply.body);
        tokens = json(&reply);
    }
    let limited = refresh(&pair, DEVICE, s(&tokens, "refresh_token")).await;
    assert_eq!(error(&limited), (429, "temporarily_unavailable".into()));
    assert!(limited.header("retry-after").is_some());
    // Another grant of the same person and client shares the limit; another client's not.
    let (_, native) = approved(&pair, NATIVE, None).await;
    assert_eq!(
        refresh(&pair, NATIVE, s(&native, "refresh_token"))
            .await
            .status,
        200
    );
    pair.advance(Duration::from_secs(60));
    let reply = refresh(&pair, DEVICE, s(&tokens, "refresh_token")).await;
    assert_eq!(
        reply.status, 200,
        "the refused token still works: {}",
        reply.body
    );
}

/// A form with `pairs` and then `padding` more parameters of other names.
fn padded(pairs: &[(&str, &str)], padding: usize) -> String {
    let names: Vec<String> = (0..padding).map(|i| format!("x{i}")).collect();
    let mut all = pairs.to_vec();
    all.extend(names.iter().map(|n| (n.as_str(), "v")));
    form(&all)
}

/// RFC 6749 §3.1: no parameter twice; and at most 32 parameters, refused before any
/// lookup (the duplicate check scans them), at every endpoint that reads a form.
#[tokio::test]
async fn a_repeated_parameter_or_more_than_32_are_refused_at_every_endpoint() {
    let pair = rig().await;
    let codes = device_code(&pair, DEVICE, None).await;
    let poll_pairs = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", s(&codes, "device_code")),
        ("client_id", DEVICE),
    ];
    // 32 in all is a request like any other: the person has not decided yet.
    let at_bound = post(&pair, Route::DeviceToken, &padded(&poll_pairs, 29)).await;
    assert_eq!(error(&at_bound), (400, "authorization_pending".into()));
    let refused = |reply: &Reply| {
        assert_eq!(error(reply), (400, "invalid_request".into()));
        // An OAuth error answer is JSON and never cached (RFC 6749 §5.1, §5.2).
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("pragma"), Some("no-cache"));
    };
    refused(&post(&pair, Route::DeviceToken, &padded(&poll_pairs, 30)).await);
    let twice = format!("{}&client_id={DEVICE}", padded(&poll_pairs, 0));
    refused(&post(&pair, Route::DeviceToken, &twice).await);
    let client = [("client_id", DEVICE)];
    for route in [Route::DeviceCode, Route::Token, Route::Revoke] {
        refused(&post(&pair, route, &padded(&client, 32)).await);
        refused(
            &post(
                &pair,
                route,
                &format!("client_id={DEVICE}&client_id={DEVICE}"),
            )
            .await,
        );
    }
}
