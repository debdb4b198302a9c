//! The provider's keys and userinfo shapes, in memory: a rotated key is found with one
//! JWKS refetch (shared by concurrent logins, rate-limited when the key never appears),
//! a token without `kid` works when one key fits, and ID.me's quirks are read.

use idme_core::LoginOptions;
use idme_testkit::pair::{Pair, assert_attempt_refused, signed_in};
use idme_testkit::{EmulatorConfig, Fault, Persona};

const NOT_VERIFIED: &str = "could not be verified";

async fn signs_in(pair: &Pair) -> bool {
    signed_in(&pair.attempt(&LoginOptions::new()).await.reply)
}

#[tokio::test]
async fn unknown_kid_refetches_the_jwks_exactly_once() {
    let pair = Pair::new(|b| b).await;
    assert!(signs_in(&pair).await);
    let jwks_before = pair.emulator.stats().jwks;

    // The provider rotates its keys: the next login works after one refetch.
    pair.emulator.rotate_keys();
    assert!(signs_in(&pair).await);
    assert_eq!(pair.emulator.stats().jwks, jwks_before + 1, "one refetch");

    // A kid that is never published: refused after at most one more refetch, and a
    // second attempt right after is rate-limited (no fetch at all).
    pair.emulator.set_faults([Fault::UnknownKid]);
    let jwks_before = pair.emulator.stats().jwks;
    for _ in 0..2 {
        let attempt = pair.attempt(&LoginOptions::new()).await;
        assert_attempt_refused(&attempt, 400, NOT_VERIFIED);
    }
    assert!(
        pair.emulator.stats().jwks <= jwks_before + 1,
        "rate-limited refetch"
    );
}

#[tokio::test]
async fn concurrent_unknown_kid_logins_share_one_refetch() {
    let pair = Pair::new(|b| b).await;
    pair.idme.discover().await.unwrap();
    let jwks_before = pair.emulator.stats().jwks;
    pair.emulator.rotate_keys();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let pair = pair.clone();
        tasks.push(tokio::spawn(async move { signs_in(&pair).await }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    assert_eq!(pair.emulator.stats().jwks, jwks_before + 1);
}

#[tokio::test]
async fn a_token_without_kid_works_when_one_key_fits() {
    let pair = Pair::new(|b| b).await;
    pair.emulator.set_faults([Fault::NoKid]);
    assert!(signs_in(&pair).await);
}

#[tokio::test]
async fn idme_jwks_quirks_are_tolerated() {
    let config = EmulatorConfig {
        jwks_quirks: true,
        auto_user: Some(Persona::Veteran),
        ..EmulatorConfig::default()
    };
    let pair = Pair::with_emulator(config, |b| b).await.unwrap();
    assert!(signs_in(&pair).await);
}

#[tokio::test]
async fn both_userinfo_shapes_are_read() {
    for fault in [Fault::PlainJsonUserinfo, Fault::DoubleQuotedUserinfo] {
        let pair = Pair::new(|b| b).await;
        pair.emulator.set_faults([fault.clone()]);
        let mut browser = pair.sign_in().await;
        let user = pair.authenticate(&mut browser).await.expect("a session");
        assert_eq!(user.user.to_json()["claims"]["fname"], "Vera", "{fault:?}");
    }
}
