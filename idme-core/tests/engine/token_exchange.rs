//! The token endpoint and discovery failing, in memory: typed errors with the right
//! status, the provider's text never on the page, a hung endpoint cut off at the HTTP
//! timeout, and a provider that is down at login.

use std::time::{Duration, Instant};

use idme_core::{LoginOptions, ResponseType};
use idme_testkit::Fault;
use idme_testkit::pair::{Pair, assert_attempt_refused, assert_refused, clears_pending};

/// Signs in with `fault` set on the emulator, expecting failure with `status` and `text`.
async fn fails_with(fault: Fault, status: u16, text: &str) {
    let pair = Pair::new(|b| b.response_type(ResponseType::Code)).await;
    pair.emulator.set_faults([fault.clone()]);
    let attempt = pair.attempt(&LoginOptions::new().return_to("/me")).await;
    assert_attempt_refused(&attempt, status, text);
    assert!(
        clears_pending(&attempt.reply),
        "{fault:?}: the pending-login cookie is deleted on failure"
    );
}

#[tokio::test]
async fn token_endpoint_errors_are_typed() {
    // A JSON OAuth error.
    fails_with(
        Fault::TokenError {
            status: 400,
            body: r#"{"error":"invalid_grant","error_description":"<b>nope</b>"}"#.into(),
        },
        400,
        "could not complete the sign-in",
    )
    .await;
    // A client misconfiguration is the site's fault: 502 and a message saying so.
    fails_with(
        Fault::TokenError {
            status: 401,
            body: r#"{"error":"invalid_client"}"#.into(),
        },
        502,
        "not configured correctly",
    )
    .await;
    // Not JSON at all.
    fails_with(
        Fault::TokenError {
            status: 500,
            body: "<html>upstream exploded</html>".into(),
        },
        502,
        "cannot be reached",
    )
    .await;
}

#[tokio::test]
async fn provider_error_text_never_reaches_the_page() {
    let pair = Pair::new(|b| b).await;
    pair.emulator.set_faults([Fault::TokenError {
        status: 400,
        body: r#"{"error":"invalid_grant","error_description":"<script>alert(1)</script>"}"#.into(),
    }]);
    let reply = pair.attempt(&LoginOptions::new()).await.reply;
    assert!(!reply.body.contains("<script>alert"), "{}", reply.body);
    assert!(!reply.body.contains("invalid_grant"), "{}", reply.body);
}

#[tokio::test]
async fn a_hung_token_endpoint_times_out() {
    let pair = Pair::new(|b| b.http_timeout(Duration::from_millis(300))).await;
    pair.emulator
        .set_faults([Fault::SlowToken(Duration::from_secs(20))]);
    let started = Instant::now();
    let attempt = pair.attempt(&LoginOptions::new()).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_attempt_refused(&attempt, 504, "took too long");
}

#[tokio::test]
async fn provider_down_at_login_is_a_clear_502() {
    let pair = Pair::new(|b| b).await;
    pair.emulator.set_faults([Fault::DiscoveryDown]);
    let reply = pair.login().await;
    assert_refused(&reply, 502, "cannot be reached");
    assert!(
        reply
            .set_cookies
            .iter()
            .all(|c| !c.name.contains("idme_login_")),
        "no login started"
    );
}
