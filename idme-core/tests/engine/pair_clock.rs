//! A pair owns its time: the engine and the emulator read one clock, which stands still
//! while real time passes and moves only with `advance`, so a token the emulator issues
//! expires exactly when the advanced time reaches its `exp`.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idme_testkit::pair::Pair;
use idme_testkit::{EmulatorConfig, Persona};
use serde_json::Value;

/// The emulator's userinfo endpoint (as at ID.me).
const USERINFO: &str = "/api/public/v3/userinfo";

/// The claims the emulator signs for `token` at its userinfo endpoint; `None` when it
/// refuses the token.
async fn userinfo(pair: &Pair, token: &str) -> Option<Value> {
    let request = http::Request::get(format!("{}{USERINFO}", pair.emulator.base_url()))
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = pair.emulator.handle(request).await;
    if response.status() != 200 {
        return None;
    }
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let jwt: String = serde_json::from_slice(&body).unwrap();
    let payload = jwt.split('.').nth(1).expect("a compact JWS");
    Some(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap())
}

#[tokio::test]
async fn the_clock_stands_still_until_advanced() {
    let pair = Pair::new(|b| b).await;
    let start = pair.now();
    assert_eq!(
        pair.emulator.now(),
        start,
        "one clock for engine and emulator"
    );
    // Real time passes (over a second); the pair's does not.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(pair.now(), start);
    assert_eq!(pair.emulator.now(), start);

    pair.advance(Duration::from_secs(60));
    assert_eq!(pair.now() - start, 60);
    assert_eq!(pair.emulator.now() - start, 60);
}

#[tokio::test]
async fn an_access_token_expires_exactly_at_its_exp() {
    let config = EmulatorConfig {
        auto_user: Some(Persona::Veteran),
        // The userinfo endpoint is called three times with one token.
        single_use_access_tokens: false,
        ..EmulatorConfig::default()
    };
    let pair = Pair::with_emulator(config, |b| b).await.unwrap();
    let mut browser = pair.sign_in().await;
    let me = pair.authenticate(&mut browser).await.expect("signed in");
    let token = me
        .user
        .access_token()
        .expect("an access token")
        .secret()
        .to_owned();
    let exp = me.user.access_expires_at().expect("a lifetime");

    let claims = userinfo(&pair, &token).await.expect("a live token");
    assert_eq!(claims["iat"], pair.now(), "signed at the pair's time");
    assert_eq!(
        claims["exp"], exp,
        "the token's exp, as the engine was told"
    );

    pair.advance(Duration::from_secs(exp - pair.now() - 1));
    assert!(
        userinfo(&pair, &token).await.is_some(),
        "live 1 s before exp"
    );
    pair.advance(Duration::from_secs(1));
    assert_eq!(pair.now(), exp);
    assert!(userinfo(&pair, &token).await.is_none(), "expired at exp");
}
