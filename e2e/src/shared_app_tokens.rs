//! App-issued tokens across two instances of an example sharing one `redis-server`
//! (`IDME_SESSION_STORE=redis://…`): a device code made on one is approved on the other
//! and yields tokens once; tokens, rotations and revocations hold on both (within the
//! 500 ms an instance reuses a bearer user it authenticated).

use idme_testkit::Persona;
use idme_testkit::browser::Browser;

use crate::apps::{
    DEVICE_CLIENT, Tokens, assert_invalid_token_soon, device_code, device_tokens, get_bearer,
    person_decides, poll, refresh, revoke,
};
use crate::sessions::{Pair, pair};

/// Two instances sharing Redis honour each other's tokens, rotations and revocations.
pub async fn app_tokens_shared_through_redis(package: &str) {
    let Pair {
        redis: _redis,
        emulator: _emulator,
        a,
        b,
    } = pair(package).await;
    let person = Browser::new();

    // A device code from A, allowed by the person on B, polled on A: once, also on B.
    let details = device_code(&a.base, &[]).await;
    let on_b = b.url(&format!(
        "/auth/device?user_code={}",
        details.user_code().secret()
    ));
    let done = person_decides(&person, &b.base, &on_b, "allow").await;
    assert_eq!(done.status, 200, "allowed on B: {}", done.body);
    let device = details.device_code().secret();
    let first = Tokens::of(&poll(&a.base, "/auth/device/token", device, DEVICE_CLIENT).await);
    poll(&b.base, "/auth/device/token", device, DEVICE_CLIENT)
        .await
        .assert_error(
            400,
            "invalid_grant",
            "a device code exchanged on A, again on B",
        );
    let me = get_bearer(&b.url("/me"), &first.access).await;
    assert_eq!(me.status, 200, "A's token on B: {}", me.body);
    assert_eq!(me.json()["sub"], Persona::Veteran.sub());

    // Rotated on A, then on B; the rotated-away token presented on A ends it on both.
    let second = Tokens::of(&refresh(&a.base, &first.refresh).await);
    assert_eq!(get_bearer(&b.url("/me"), &second.access).await.status, 200);
    assert_invalid_token_soon(&b.url("/me"), &first.access, "rotated away on A").await;
    let third = Tokens::of(&refresh(&b.base, &second.refresh).await);
    assert_eq!(get_bearer(&a.url("/me"), &third.access).await.status, 200);
    // The client's retry on A of the token B just rotated: the same pair, across instances.
    let retried = Tokens::of(&refresh(&a.base, &second.refresh).await);
    assert_eq!(
        retried.refresh, third.refresh,
        "a retry on A of B's rotation"
    );
    // A token rotated away earlier, on A: a reuse, which ends the family on both.
    refresh(&a.base, &first.refresh).await.assert_error(
        400,
        "invalid_grant",
        "a reuse on A of a token rotated away earlier",
    );
    assert_invalid_token_soon(&b.url("/me"), &third.access, "the family on B").await;
    refresh(&b.base, &third.refresh).await.assert_error(
        400,
        "invalid_grant",
        "the family's refresh token on B",
    );

    // Revoked on A: refused on B.
    let tokens = device_tokens(&b.base, &person, &[]).await;
    let answer = revoke(&a.base, &tokens.refresh).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_invalid_token_soon(&b.url("/me"), &tokens.access, "revoked on A").await;
    refresh(&b.base, &tokens.refresh).await.assert_error(
        400,
        "invalid_grant",
        "revoked on A, refreshed on B",
    );

    // One refresh token presented to both at once: never two different live successors
    // (the second, inside the reuse interval, gets the pair the first made).
    let tokens = device_tokens(&a.base, &person, &[]).await;
    let (on_a, on_b) = tokio::join!(
        refresh(&a.base, &tokens.refresh),
        refresh(&b.base, &tokens.refresh)
    );
    let won: Vec<_> = [&on_a, &on_b]
        .into_iter()
        .filter(|r| r.status == 200)
        .map(Tokens::of)
        .collect();
    assert!(!won.is_empty(), "one of them rotates");
    assert!(
        won.windows(2)
            .all(|w| w[0].refresh == w[1].refresh && w[0].access == w[1].access),
        "one refresh token, two different successors"
    );
}
