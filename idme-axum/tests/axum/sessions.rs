//! A large session through axum: the engine re-seals it into several cookies, axum
//! sets each with its own `Set-Cookie` header and reads them back, and a tampered chunk
//! is no user with every chunk cleared. The engine's session rules (keys, stores,
//! refresh, back-channel logout) are tested in memory in `idme-core/tests/engine/sessions.rs`.

use super::common;

use common::{Rig, SESSION};
use idme_core::RequestCookies;
use idme_testkit::browser::Browser;

/// The request cookies a browser would send.
fn cookies_of(browser: &Browser) -> RequestCookies {
    let header = browser
        .cookies()
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    RequestCookies::from_header_values([header.as_str()])
}

#[tokio::test]
async fn large_sessions_are_chunked_and_a_tampered_chunk_is_no_session() {
    let rig = Rig::new().await;
    let browser = Browser::api_client();
    rig.sign_in(&browser, "/me").await;
    // Re-seal the session with a very large claim, as an engine with the same keys would
    // after a sign-in asking for many attributes.
    let cookies = cookies_of(&browser);
    // Text that does not compress (the session is deflated before it is sealed): 12,000
    // hex digits of hashes.
    let hasher = std::collections::hash_map::RandomState::new();
    let bio: String = (0u64..750)
        .map(|i| format!("{:016x}", std::hash::BuildHasher::hash_one(&hasher, i)))
        .collect();
    let big = rig
        .idme
        .__reseal_with_claim(&cookies, "bio", &bio)
        .expect("session opens");
    assert!(big.len() >= 3, "chunked into {} cookies", big.len());
    for c in &big {
        assert!(c.header_value().len() <= 4096);
        browser.put_cookie(&c.name, &c.value, "/");
    }
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["claims"]["bio"].as_str().unwrap(), bio);

    // Tamper with the middle of chunk 1.
    let mut chunk = browser.cookie(&format!("{SESSION}.1")).unwrap();
    let mid = chunk.len() / 2;
    let flip = if &chunk[mid..=mid] == "A" { "B" } else { "A" };
    chunk.replace_range(mid..=mid, flip);
    browser.put_cookie(&format!("{SESSION}.1"), &chunk, "/");
    let me = browser.get(&rig.url("/me")).await;
    assert_eq!(me.status, 401, "{}", me.body);
    // Every chunk is cleared.
    let cleared: Vec<String> = me
        .set_cookies()
        .into_iter()
        .filter(|c| c.contains("Max-Age=0"))
        .collect();
    assert_eq!(cleared.len(), big.len(), "{cleared:?}");
}
