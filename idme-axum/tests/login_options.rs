//! `prompt` and `max_age` from the login route's query, through axum: `prompt=none` with
//! nobody signed in at the provider ends on a clear 401 page, not a loop.

mod common;

use common::{Rig, assert_failed};
use idme_testkit::browser::Browser;

#[tokio::test]
async fn prompt_none_from_the_query_ends_on_a_clear_page() {
    let rig = Rig::new().await;
    rig.emulator.set_auto_user(None);
    let browser = Browser::new();
    let start = browser
        .get(&rig.url("/auth/login?prompt=none&max_age=120&return_to=/me"))
        .await;
    let q: std::collections::HashMap<_, _> = start
        .location()
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(
        (q["prompt"].as_str(), q["max_age"].as_str()),
        ("none", "120")
    );
    let page = browser.navigate(start, None).await;
    assert_failed(&page, &browser, 401, "not signed in at ID.me");
    assert!(page.body.contains("href=\"/auth/login\""), "{}", page.body);
}

#[tokio::test]
async fn invalid_prompt_and_max_age_from_the_query_are_not_sent() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let start = browser
        .get(&rig.url("/auth/login?prompt=none%20login&max_age=-1"))
        .await;
    let q: std::collections::HashMap<_, _> = start
        .location()
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(
        !q.contains_key("prompt") && !q.contains_key("max_age"),
        "{q:?}"
    );
    let page = browser.navigate(start, None).await;
    assert_eq!(page.status, 200, "the login still completes: {}", page.body);
}
