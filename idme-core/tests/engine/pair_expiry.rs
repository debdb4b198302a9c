//! Expiry, told the time: the engine and the emulator run in memory on one simulated
//! clock, and every expiry is reached with `advance`, never by sleeping.

use std::time::Duration;

use idme_core::{Error, MemoryStore};
use idme_testkit::pair::Pair;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Whether `reply` signed someone in (a redirect setting the session cookie).
fn signed_in(reply: &idme_core::Reply) -> bool {
    reply.status == 303
        && reply
            .set_cookies
            .iter()
            .any(|c| c.name.contains("idme_session") && c.max_age > 0)
}

#[tokio::test]
async fn a_sign_in_and_its_session_need_no_socket() {
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    let user = pair.authenticate(&mut browser).await.expect("signed in");
    assert_eq!(user.user.sub(), idme_testkit::Persona::Veteran.sub());
    let stats = pair.emulator.stats();
    // The code exchange, and a refresh for a fresh (single-use) token for attributes.
    assert_eq!((stats.authorize, stats.token, stats.attributes), (1, 2, 1));
}

#[tokio::test]
async fn a_pending_login_expires_after_the_login_timeout() {
    let pair = Pair::new(|b| b.login_timeout(secs(120))).await;
    let login = pair.login().await;
    pair.advance(secs(118));
    let query = pair.authorize(&login).await;
    assert!(
        signed_in(&pair.callback(&login, &query).await),
        "still pending at 118 s"
    );
    let token_calls = pair.emulator.stats().token;

    let login = pair.login().await;
    pair.advance(secs(121));
    let query = pair.authorize(&login).await;
    let reply = pair.callback(&login, &query).await;
    assert!(!signed_in(&reply), "expired at 121 s");
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("expired"), "{}", reply.body);
    assert!(reply.body.contains("start again"), "{}", reply.body);
    assert_eq!(
        pair.emulator.stats().token,
        token_calls,
        "no code exchanged for the late login"
    );
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime() {
    let pair = Pair::new(|b| b.session_lifetime(secs(3600))).await;
    let mut browser = pair.sign_in().await;
    pair.advance(secs(3598));
    assert!(
        pair.authenticate(&mut browser).await.is_ok(),
        "alive at 3598 s"
    );
    pair.advance(secs(3));
    let denied = pair.authenticate(&mut browser).await.unwrap_err();
    assert!(
        matches!(denied.error, Error::Unauthenticated(_)),
        "{:?}",
        denied.error
    );
}

#[tokio::test]
async fn a_stored_session_ends_at_its_absolute_lifetime() {
    let pair = Pair::new(|b| {
        b.session_lifetime(secs(3600))
            .session_store(MemoryStore::new())
    })
    .await;
    let mut browser = pair.sign_in().await;
    pair.advance(secs(3598));
    assert!(
        pair.authenticate(&mut browser).await.is_ok(),
        "alive at 3598 s"
    );
    pair.advance(secs(3));
    assert!(
        pair.authenticate(&mut browser).await.is_err(),
        "over at 3601 s"
    );
}

#[tokio::test]
async fn an_idle_session_ends_after_the_idle_timeout() {
    let pair = Pair::new(|b| b.session_idle_timeout(secs(300))).await;
    let mut browser = pair.sign_in().await;
    for _ in 0..3 {
        pair.advance(secs(200));
        assert!(
            pair.authenticate(&mut browser).await.is_ok(),
            "each visit keeps it alive"
        );
    }
    pair.advance(secs(301));
    assert!(
        pair.authenticate(&mut browser).await.is_err(),
        "idle for 301 s"
    );
}

#[tokio::test]
async fn tokens_are_refreshed_once_the_refresh_margin_is_reached() {
    // The emulator's access tokens live 300 s; with a 60 s margin the refresh is due at 240 s.
    let pair = Pair::new(|b| b.refresh_margin(secs(60))).await;
    let mut browser = pair.sign_in().await;
    let signed_in = pair.emulator.stats().token;
    pair.advance(secs(238));
    assert!(pair.authenticate(&mut browser).await.is_ok());
    assert_eq!(pair.emulator.stats().token, signed_in, "not due at 238 s");
    pair.advance(secs(3));
    assert!(pair.authenticate(&mut browser).await.is_ok());
    assert_eq!(
        pair.emulator.stats().token,
        signed_in + 1,
        "one refresh at 241 s"
    );
    assert!(pair.authenticate(&mut browser).await.is_ok());
    assert_eq!(
        pair.emulator.stats().token,
        signed_in + 1,
        "the refreshed tokens are kept"
    );
}

#[tokio::test]
async fn an_id_token_issued_in_the_future_beyond_the_skew_is_refused() {
    let pair = Pair::new(|b| b.clock_skew(secs(60))).await;
    pair.advance_provider(secs(30));
    let login = pair.login().await;
    let query = pair.authorize(&login).await;
    assert!(
        signed_in(&pair.callback(&login, &query).await),
        "30 s ahead is within the skew"
    );

    pair.advance_provider(secs(61));
    let login = pair.login().await;
    let query = pair.authorize(&login).await;
    assert!(
        !signed_in(&pair.callback(&login, &query).await),
        "91 s ahead is refused"
    );
}

#[tokio::test]
async fn an_id_token_expired_beyond_the_skew_is_refused() {
    // The emulator's ID tokens live 5 h: the engine runs 5 h + 61 s ahead of it.
    let pair = Pair::new(|b| b.clock_skew(secs(60))).await;
    pair.advance_engine(secs(5 * 3600 + 30));
    let login = pair.login().await;
    let query = pair.authorize(&login).await;
    assert!(
        signed_in(&pair.callback(&login, &query).await),
        "30 s past exp is within the skew"
    );

    pair.advance_engine(secs(31));
    let login = pair.login().await;
    let query = pair.authorize(&login).await;
    assert!(
        !signed_in(&pair.callback(&login, &query).await),
        "61 s past exp is refused"
    );
}
