//! The README's "Testing your handlers": `idme_testkit::TestIdme`'s signed-in browsers
//! against a Rocket app's handlers.

use idme_rocket::idme_core::require::Veteran;
use idme_rocket::{IdmeFairing, IdmeUser, Verified};
use idme_testkit::{Persona, TestIdme};
use rocket::http::Header;
use rocket::local::asynchronous::Client;
use rocket::{get, routes};

#[get("/veterans")]
fn veterans(user: Verified<Veteran>) -> String {
    user.sub().to_owned()
}

#[get("/me")]
fn me(user: IdmeUser) -> String {
    user.sub().to_owned()
}

/// The status of a `GET path` (an API client) with `cookie`.
async fn get_as(idme: &TestIdme, path: &str, cookie: Option<String>) -> u16 {
    let app = rocket::build()
        .attach(IdmeFairing::new(idme.engine()))
        .mount("/", routes![veterans, me]);
    let client = Client::untracked(app).await.unwrap();
    let mut req = client
        .get(path)
        .header(Header::new("Accept", "application/json"));
    if let Some(cookie) = cookie {
        req = req.header(Header::new("Cookie", cookie));
    }
    req.dispatch().await.status().code
}

#[rocket::async_test]
async fn veterans_get_their_page() -> Result<(), Box<dyn std::error::Error>> {
    let idme = TestIdme::new(|b| b).await?;
    let cookie = idme.sign_in(Persona::Veteran).await?.cookie();
    let app = rocket::build()
        .attach(IdmeFairing::new(idme.engine()))
        .mount("/", routes![veterans]);
    let client = Client::untracked(app).await?;
    let res = client
        .get("/veterans")
        .header(Header::new("Cookie", cookie))
        .dispatch()
        .await;
    assert_eq!(res.status().code, 200);
    Ok(())
}

#[rocket::async_test]
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
