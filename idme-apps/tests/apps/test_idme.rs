//! `idme_testkit::TestIdme::bearer` with the app server registered: an app client's token
//! for a persona, through the real device grant in memory, accepted by a handler behind
//! `Verified<Veteran>` in axum, actix-web and Rocket.

use axum::body::Body;
use axum::routing::get;
use http::Request;
use idme_apps::{AppClients, AppServer};
use idme_core::require::Veteran;
use idme_testkit::{Persona, TestIdme};
use tower::ServiceExt as _;

async fn test_idme() -> TestIdme {
    let clients = AppClients::new(["tv-app"]);
    TestIdme::with_engine(|b| b, |e| e.extension(AppServer::new(clients)))
        .await
        .unwrap()
}

fn axum_app(idme: &TestIdme) -> axum::Router {
    let idme = idme.engine();
    axum::Router::new()
        .route(
            "/veterans",
            get(|user: idme_axum::Verified<Veteran>| async move { user.sub().to_owned() }),
        )
        .merge(idme_axum::routes(&idme))
        .layer(idme_axum::IdmeLayer::new(idme))
}

async fn axum_status(idme: &TestIdme, authorization: &str) -> u16 {
    let request = Request::get("/veterans")
        .header("authorization", authorization)
        .body(Body::empty())
        .unwrap();
    let res = axum_app(idme).oneshot(request).await.unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn a_bearer_token_for_a_veteran_is_accepted() {
    let idme = test_idme().await;
    let bearer = idme
        .bearer(Persona::Veteran, "tv-app", &["military"])
        .await
        .unwrap();
    assert!(bearer.starts_with("Bearer "), "{bearer}");
    assert_eq!(axum_status(&idme, &bearer).await, 200);
    // And a cookie from the same helper, side by side.
    let cookie = idme.sign_in(Persona::Veteran).await.unwrap();
    let request = Request::get("/veterans")
        .header("cookie", cookie.cookie())
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        axum_app(&idme).oneshot(request).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_students_bearer_token_gets_403() {
    let idme = test_idme().await;
    let bearer = idme.bearer(Persona::Student, "tv-app", &[]).await.unwrap();
    assert_eq!(axum_status(&idme, &bearer).await, 403);
    // A token carries only the verifications of its scope: a veteran's without it, too.
    let bearer = idme.bearer(Persona::Veteran, "tv-app", &[]).await.unwrap();
    assert_eq!(axum_status(&idme, &bearer).await, 403);
    // A scope the persona has not verified is refused along the way.
    let refused = idme.bearer(Persona::Student, "tv-app", &["military"]).await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn without_the_app_server_bearer_says_so() {
    let idme = TestIdme::new(|b| b).await.unwrap();
    let err = idme
        .bearer(Persona::Veteran, "tv-app", &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("AppServer"), "{err}");
}

#[actix_web::test]
async fn in_actix_web() {
    use actix_web::{App, test, web};
    async fn veterans(user: idme_actix::Verified<Veteran>) -> String {
        user.sub().to_owned()
    }
    let idme = test_idme().await;
    let bearer = idme
        .bearer(Persona::Veteran, "tv-app", &["military"])
        .await
        .unwrap();
    let app = App::new()
        .wrap(idme_actix::IdmeMiddleware)
        .configure(idme_actix::configure(&idme.engine()))
        .route("/veterans", web::get().to(veterans));
    let app = test::init_service(app).await;
    let req = test::TestRequest::get()
        .uri("/veterans")
        .insert_header(("authorization", bearer));
    assert_eq!(
        test::call_service(&app, req.to_request()).await.status(),
        200
    );
}

#[rocket::get("/veterans")]
fn rocket_veterans(user: idme_rocket::Verified<Veteran>) -> String {
    user.sub().to_owned()
}

#[rocket::async_test]
async fn in_rocket() {
    use rocket::http::Header;
    use rocket::local::asynchronous::Client;
    let idme = test_idme().await;
    let bearer = idme
        .bearer(Persona::Veteran, "tv-app", &["military"])
        .await
        .unwrap();
    let app = rocket::build()
        .attach(idme_rocket::IdmeFairing::new(idme.engine()))
        .mount("/", rocket::routes![rocket_veterans]);
    let client = Client::untracked(app).await.unwrap();
    let res = client
        .get("/veterans")
        .header(Header::new("Authorization", bearer))
        .dispatch()
        .await;
    assert_eq!(res.status().code, 200);
}
