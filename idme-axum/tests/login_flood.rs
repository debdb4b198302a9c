//! A flood of unfinished logins (each a real `login` and a bogus callback carrying its
//! `state`, claimed then refused without any network call) keeps the single-use record
//! bounded, and real sign-ins during and after it still succeed quickly.
//!
//! `cargo test -p idme-axum --test login_flood -- --nocapture` prints the numbers.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::Rig;
use idme_core::{CallbackInput, Idme, RequestCookies};
use idme_testkit::browser::Browser;

/// Bogus callbacks sent.
const FLOOD: usize = 100_000;
/// The record's documented cap (`flow::replay::MAX_ENTRIES`).
const CAP: usize = 65_536;
/// Tasks sending them (the runtime has two worker threads).
const TASKS: usize = 2;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// One unfinished login: start it, then call back with its state and a wrong `iss`.
/// Returns the callback's query and cookies, for a replay.
async fn bogus_login(idme: &Idme) -> (String, RequestCookies, u16) {
    let start = idme.login(None).await;
    // `state` is URL-safe base64: it appears as it is in the authorization URL.
    let location = start.header("location").unwrap();
    let at = location.find("state=").unwrap() + "state=".len();
    let state = location[at..].split('&').next().unwrap();
    let cookie = &start.set_cookies[0];
    let cookies =
        RequestCookies::from_header_values([format!("{}={}", cookie.name, cookie.value).as_str()]);
    let query = format!("code=bogus&state={state}&iss=https%3A%2F%2Fattacker.example");
    let reply = idme
        .callback(CallbackInput::get(Some(&query)), &cookies)
        .await;
    assert!(
        reply
            .set_cookies
            .iter()
            .all(|c| !c.name.contains("session")),
        "no session from a bogus callback"
    );
    (query, cookies, reply.status)
}

/// A real sign-in over HTTP; returns how long it took.
async fn real_sign_in(rig: &Rig) -> Duration {
    let browser = Browser::api_client();
    let t = Instant::now();
    let page = rig.sign_in(&browser, "/me").await;
    let took = t.elapsed();
    assert_eq!(page.status, 200, "signed in: {}", page.body);
    assert!(page.body.contains("\"sub\""), "{}", page.body);
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_stays_bounded_and_real_sign_ins_still_work() {
    let rig = Rig::new().await;
    let idme = rig.idme.clone();
    // Warm discovery (and the first real sign-in) before measuring.
    let first = real_sign_in(&rig).await;
    let (_, _, status) = bogus_login(&idme).await;
    assert_eq!(status, 400, "a callback with another iss is refused");
    let rss_before = rss_kib();
    let (entries_before, _) = idme.__used_logins();

    let sent = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let (idme, sent) = (idme.clone(), sent.clone());
        flood.spawn(async move {
            let mut most = 0;
            let mut last = None;
            for i in 0..FLOOD / TASKS {
                let (query, cookies, status) = bogus_login(&idme).await;
                assert_eq!(status, 400);
                sent.fetch_add(1, Ordering::Relaxed);
                if i % 100 == 0 {
                    most = most.max(idme.__used_logins().0);
                    tokio::task::yield_now().await;
                }
                last = Some((query, cookies));
            }
            (most, last.unwrap())
        });
    }
    // A real sign-in in the middle of the flood.
    while sent.load(Ordering::Relaxed) < FLOOD / 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let during = real_sign_in(&rig).await;
    let mut most = 0;
    let mut last = None;
    while let Some(done) = flood.join_next().await {
        let (m, l) = done.unwrap();
        most = most.max(m);
        last = Some(l);
    }
    let (query, cookies) = last.unwrap();
    let flood_time = started.elapsed();
    let after = real_sign_in(&rig).await;

    let (entries, heap) = idme.__used_logins();
    let rss_after = rss_kib();
    assert!(most <= CAP, "at most the cap at any time: {most}");
    assert!(entries <= CAP, "at most the cap: {entries}");
    assert!(
        entries > CAP / 2,
        "the recent logins are remembered: {entries}"
    );
    // The most recent bogus login is still single-use.
    let replay = idme
        .callback(CallbackInput::get(Some(&query)), &cookies)
        .await;
    assert!(
        replay.body.contains("already") || replay.body.contains("used"),
        "replay refused: {}",
        replay.body
    );
    assert!(
        during < Duration::from_secs(5),
        "sign-in during the flood: {during:?}"
    );
    assert!(
        after < Duration::from_secs(5),
        "sign-in after the flood: {after:?}"
    );
    println!(
        "login flood: {FLOOD} bogus callbacks in {:.2} s ({:.1} µs each); record: {entries_before} → {entries} entries (most {most}, cap {CAP}), {heap} B of keys ({:.1} B/entry); VmRSS {rss_before} KiB → {rss_after} KiB; real sign-in before {:.0} ms, during {:.0} ms, after {:.0} ms",
        flood_time.as_secs_f64(),
        flood_time.as_secs_f64() * 1e6 / FLOOD as f64,
        heap as f64 / entries.max(1) as f64,
        first.as_secs_f64() * 1e3,
        during.as_secs_f64() * 1e3,
        after.as_secs_f64() * 1e3,
    );
}
