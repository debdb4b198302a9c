//! What a signed-in browser sends on every request: the session cookie, kept small.

use idme_testkit::pair::Pair;

#[tokio::test]
async fn the_session_cookie_of_a_verified_user_stays_under_1600_bytes() {
    // The session a production sign-in with ID.me makes: its discovery names no
    // end_session_endpoint, so no ID token is kept for an `id_token_hint`, and
    // `attributes.json` adds the verification.
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    let user = pair
        .authenticate(&mut browser)
        .await
        .expect("signed in")
        .user;
    assert!(user.verification().is_some(), "with the verification");
    let sealed: usize = browser
        .names()
        .iter()
        .filter(|n| n.contains("idme_session"))
        .map(|n| n.len() + 1 + browser.cookies().get(n).map_or(0, str::len))
        .sum();
    assert!(
        sealed < 1_600,
        "the session costs {sealed} bytes of Cookie header on every request"
    );
}
