//! The README's "Testing your handlers": `idme_testkit::TestIdme`'s signed-in browsers
//! against an axum app's handlers.

use axum::{Router, body::Body, http::Request, routing::get};
use idme_axum::idme_core::{Idme, require::Veteran};
use idme_axum::{IdmeLayer, IdmeUser, Verified};
use idme_testkit::{Persona, TestIdme};
use tower::ServiceExt as _;

/// The app, built with the engine it is given.
fn app(idme: Idme) -> Router {
    Router::new()
        .route(
            "/veterans",
            get(|user: Verified<Veteran>| async move { user.sub().to_owned() }),
        )
        .route(
            "/me",
            get(|user: IdmeUser| async move { user.sub().to_owned() }),
        )
        .merge(idme_axum::routes(&idme))
        .layer(IdmeLayer::new(idme))
}

async fn get_as(idme: &TestIdme, path: &str, cookie: Option<String>) -> u16 {
    let mut request = Request::get(path).header("accept", "application/json");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let res = app(idme.engine())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn veterans_get_their_page() -> Result<(), Box<dyn std::error::Error>> {
    let idme = TestIdme::new(|b| b).await?;
    let cookie = idme.sign_in(Persona::Veteran).await?.cookie();
    let res = app(idme.engine())
        .oneshot(
            Request::get("/veterans")
                .header("cookie", cookie)
                .body(Body::empty())?,
        )
        .await?;
    assert_eq!(res.status(), 200);
    Ok(())
}

#[tokio::test]
async fn a_persona_without_the_verification_gets_403() {
    let idme = TestIdme::new(|b| b).await.unwrap();
    let student = idme.sign_in(Persona::Student).await.unwrap();
    assert_eq!(get_as(&idme, "/me", Some(student.cookie())).await, 200);
    assert_eq!(
        get_as(&idme, "/veterans", Some(student.cookie())).await,
        403
    );
    // Nobody signed in: 401 for an API client.
    assert_eq!(get_as(&idme, "/me", None).await, 401);
    // Two personas in one test, each its own browser.
    let veteran = idme.sign_in(Persona::Veteran).await.unwrap();
    assert_eq!(
        get_as(&idme, "/veterans", Some(veteran.to_string())).await,
        200
    );
}

#[tokio::test]
async fn the_header_pair_and_a_foreign_engine() {
    let idme = TestIdme::new(|b| b).await.unwrap();
    let (name, value) = idme.sign_in(Persona::Veteran).await.unwrap().header();
    let res = app(idme.engine())
        .oneshot(
            Request::get("/veterans")
                .header(name, value.clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Another engine (its own random cookie key) does not open the cookie.
    let other = TestIdme::new(|b| b).await.unwrap();
    let res = app(other.engine())
        .oneshot(
            Request::get("/me")
                .header("accept", "application/json")
                .header("cookie", value)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
