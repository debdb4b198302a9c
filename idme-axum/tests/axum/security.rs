//! What axum itself does with the engine's answers, over loopback: protected routes
//! redirect browsers and answer APIs 401, a tampered session cookie is no user (and is
//! deleted), and the logout route passes the request's `Origin` to the engine. The
//! engine's protocol and security rules are tested in memory in `idme-core/tests`.

use super::common;

use common::{Rig, SESSION};
use idme_testkit::browser::Browser;

#[tokio::test]
async fn protected_routes_redirect_browsers_and_401_apis() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    let page = browser.get(&rig.url("/account?x=1")).await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.headers["location"],
        "/auth/login?return_to=%2Faccount%3Fx%3D1"
    );
    let api = Browser::api_client();
    let page = api.get(&rig.url("/me")).await;
    assert_eq!(page.status, 401);
    assert_eq!(page.json()["error"], "unauthenticated");
    // Optional user: the public page works either way.
    assert_eq!(api.get(&rig.url("/")).await.body, "hello stranger");
}

#[tokio::test]
async fn a_tampered_session_cookie_is_not_a_session() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let value = browser.cookie(SESSION).unwrap();
    // Change the last character to a different one (it may already be an `A`).
    let last = if value.ends_with('A') { "B" } else { "A" };
    let tampered = format!("{}{last}", &value[..value.len() - 1]);
    let api = Browser::api_client();
    api.put_cookie(SESSION, &tampered, "/");
    let page = api.get(&rig.url("/me")).await;
    assert_eq!(page.status, 401);
    assert!(
        page.set_cookie(SESSION)
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
}

#[tokio::test]
async fn cross_site_logout_is_refused() {
    let rig = Rig::new().await;
    let browser = Browser::new();
    assert_eq!(rig.sign_in(&browser, "/me").await.status, 200);
    let page = browser
        .post_form_with(
            &rig.url("/auth/logout"),
            &[],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(browser.cookie(SESSION).is_some());
}

/// The engine's routes read the body through axum's `Bytes` extractor, so the app's
/// `DefaultBodyLimit` bounds what they read (`413` past it).
#[tokio::test]
async fn the_apps_body_limit_applies_to_the_engines_routes() {
    use axum::body::Body;
    use axum::extract::DefaultBodyLimit;
    use tower::ServiceExt as _;
    let idme = idme_testkit::TestIdme::new(|b| b).await.expect("engine");
    let app = idme_axum::routes::<()>(&idme.engine()).layer(DefaultBodyLimit::max(1024));
    let post = |body: String| {
        http::Request::post("/auth/backchannel-logout")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request")
    };
    let big = app
        .clone()
        .oneshot(post(format!("logout_token={}", "a".repeat(4096))))
        .await
        .expect("infallible");
    assert_eq!(big.status(), 413);
    let small = app
        .oneshot(post("logout_token=not-a-jwt".into()))
        .await
        .expect("infallible");
    assert_eq!(small.status(), 400, "read and refused by the engine");
}
