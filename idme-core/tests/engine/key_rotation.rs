//! A key rotation under load: the first callbacks after the provider starts signing with a
//! new key all name a `kid` the engine has not seen, and they share one JWKS fetch.

use idme_core::UserDataSource;
use idme_testkit::pair::Pair;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_callbacks_after_a_key_rotation_fetch_the_keys_once() {
    const LOGINS: usize = 1_000;
    let pair = Pair::new(|b| b.user_data(UserDataSource::IdToken)).await;
    // Keys cached by a first sign-in.
    pair.sign_in().await;
    let before = pair.emulator.stats().jwks;
    assert_eq!(before, 1, "one fetch for the first sign-in");

    pair.emulator.rotate_keys();
    // Every login reaches the provider first; the ID tokens are signed with the new key
    // when their codes are exchanged, all at once below.
    let mut pending = Vec::with_capacity(LOGINS);
    for _ in 0..LOGINS {
        let login = pair.login().await;
        let query = pair.authorize(&login).await;
        pending.push((login, query));
    }
    let callbacks = pending.into_iter().map(|(login, query)| {
        let pair = pair.clone();
        tokio::spawn(async move { pair.callback(&login, &query).await })
    });
    let mut signed_in = 0;
    for task in callbacks.collect::<Vec<_>>() {
        let reply = task.await.expect("the callback task");
        assert_eq!(
            reply.status, 303,
            "signed in after the rotation: {}",
            reply.body
        );
        signed_in += 1;
    }
    assert_eq!(signed_in, LOGINS);
    assert_eq!(
        pair.emulator.stats().jwks - before,
        1,
        "the unknown kid triggers exactly one JWKS fetch for all {LOGINS} callbacks"
    );
}
