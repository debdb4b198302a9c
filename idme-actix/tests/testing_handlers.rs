//! The README's "Testing your handlers": `idme_testkit::TestIdme`'s signed-in browsers
//! against an actix-web app's handlers.

use actix_web::{App, test, web};
use idme_actix::idme_core::require::Veteran;
use idme_actix::{IdmeMiddleware, IdmeUser, Verified};
use idme_testkit::{Persona, TestIdme};

async fn veterans(user: Verified<Veteran>) -> String {
    user.sub().to_owned()
}

async fn me(user: IdmeUser) -> String {
    user.sub().to_owned()
}

/// The status of a `GET path` (an API client) with `cookie`.
async fn get_as(idme: &TestIdme, path: &str, cookie: Option<String>) -> u16 {
    let app = App::new()
        .wrap(IdmeMiddleware)
        .configure(idme_actix::configure(&idme.engine()))
        .route("/veterans", web::get().to(veterans))
        .route("/me", web::get().to(me));
    let app = test::init_service(app).await;
    let mut req = test::TestRequest::get()
        .uri(path)
        .insert_header(("accept", "application/json"));
    if let Some(cookie) = cookie {
        req = req.insert_header(("cookie", cookie));
    }
    test::call_service(&app, req.to_request())
        .await
        .status()
        .as_u16()
}

#[actix_web::test]
async fn veterans_get_their_page() -> Result<(), Box<dyn std::error::Error>> {
    let idme = TestIdme::new(|b| b).await?;
    let cookie = idme.sign_in(Persona::Veteran).await?.cookie();
    let app = App::new()
        .wrap(IdmeMiddleware)
        .configure(idme_actix::configure(&idme.engine()))
        .route("/veterans", web::get().to(veterans));
    let app = test::init_service(app).await;
    let req = test::TestRequest::get()
        .uri("/veterans")
        .insert_header(("cookie", cookie));
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), 200);
    Ok(())
}

#[actix_web::test]
async fn a_persona_without_the_verification_gets_403() {
    let idme = TestIdme::new(|b| b).await.unwrap();
    let student = idme.sign_in(Persona::Student).await.unwrap();
    assert_eq!(get_as(&idme, "/me", Some(student.cookie())).await, 200);
    assert_eq!(
        get_as(&idme, "/veterans", Some(student.cookie())).await,
        403
    );
    assert_eq!(get_as(&idme, "/me", None).await, 401);
}
