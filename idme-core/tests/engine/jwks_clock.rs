//! The signing-key cache runs on the engine's clock: its age and the unknown-`kid`
//! refetch throttle are measured with the `now` the engine is told, so a simulated clock
//! reaches them with `advance`, never by sleeping.

use std::time::Duration;

use idme_testkit::Fault;
use idme_testkit::pair::Pair;

fn signed_in(reply: &idme_core::Reply) -> bool {
    reply.status == 303
        && reply
            .set_cookies
            .iter()
            .any(|c| c.name.contains("idme_session") && c.max_age > 0)
}

async fn sign_in(pair: &Pair) -> idme_core::Reply {
    let login = pair.login().await;
    let query = pair.authorize(&login).await;
    pair.callback(&login, &query).await
}

#[tokio::test]
async fn the_unknown_kid_refetch_throttle_follows_the_engine_clock() {
    let pair = Pair::new(|b| b.jwks_refetch_interval(Duration::from_secs(60))).await;
    assert!(signed_in(&sign_in(&pair).await));
    pair.emulator.set_faults([Fault::UnknownKid]);
    let before = pair.emulator.stats().jwks;
    assert!(!signed_in(&sign_in(&pair).await));
    assert_eq!(pair.emulator.stats().jwks, before + 1, "one refetch");
    assert!(!signed_in(&sign_in(&pair).await));
    assert_eq!(pair.emulator.stats().jwks, before + 1, "throttled");

    pair.advance(Duration::from_secs(61));
    assert!(!signed_in(&sign_in(&pair).await));
    assert_eq!(
        pair.emulator.stats().jwks,
        before + 2,
        "the throttle is over 61 engine seconds later"
    );
}

#[tokio::test]
async fn the_key_set_is_fetched_again_after_an_hour_of_engine_time() {
    let pair = Pair::new(|b| b).await;
    assert!(signed_in(&sign_in(&pair).await));
    let before = pair.emulator.stats().jwks;
    // The simulated clock runs on the system clock: ten seconds of margin for a slow
    // machine on each side of the hour.
    pair.advance(Duration::from_secs(3590));
    assert!(signed_in(&sign_in(&pair).await));
    assert_eq!(pair.emulator.stats().jwks, before, "still fresh");
    pair.advance(Duration::from_secs(20));
    assert!(signed_in(&sign_in(&pair).await));
    assert_eq!(
        pair.emulator.stats().jwks,
        before + 1,
        "an hour old: fetched again"
    );
}
