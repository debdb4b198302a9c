//! What only Rocket has, in-process with its local `Client`: the fairing's catchers and
//! figment configuration. The cases every adapter shares are in `contract.rs`.

use idme_core::{Environment, Idme, IdmeBuilder};
use idme_rocket::{IdmeFairing, IdmeRejection, IdmeUser};
use idme_testkit::{Emulator, EmulatorConfig, Persona};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::{Build, Request, Rocket, catch, catchers, get, routes};

/// An emulator signing in the veteran automatically.
async fn emulator(redirect_uri: &str) -> Emulator {
    Emulator::start(EmulatorConfig {
        redirect_uris: vec![redirect_uri.to_owned()],
        auto_user: Some(Persona::Veteran),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// An emulator and an engine pointed at it.
async fn engine(redirect_uri: &str) -> (Emulator, Idme) {
    let emulator = emulator(redirect_uri).await;
    let config = IdmeBuilder::new()
        .environment(Environment::Custom(emulator.issuer()))
        .client_id(emulator.client_id())
        .client_secret(emulator.client_secret())
        .redirect_uri(redirect_uri)
        .build()
        .unwrap();
    (emulator, Idme::new(config))
}

#[get("/")]
fn home(user: Option<IdmeUser>) -> String {
    match user {
        Some(u) => format!("hello {}", u.sub()),
        None => "hello stranger".to_owned(),
    }
}

#[get("/me")]
fn me(user: IdmeUser) -> (ContentType, String) {
    (ContentType::JSON, user.to_json().to_string())
}

#[get("/verified/ial2")]
fn ial2(user: idme_rocket::Verified<idme_core::require::Ial2>) -> String {
    user.sub().to_owned()
}

#[get("/account/sid")]
fn sid(user: IdmeUser) -> String {
    user.session_id().to_owned()
}

/// The example contract's routes, without the fairing.
fn app(rocket: Rocket<Build>) -> Rocket<Build> {
    rocket.mount("/", routes![home, me, sid, ial2])
}

const REDIRECT: &str = "http://127.0.0.1:8080/auth/callback";

async fn client(idme: Idme) -> Client {
    Client::tracked(app(rocket::build()).attach(IdmeFairing::new(idme)))
        .await
        .unwrap()
}

fn header<'a>(res: &'a LocalResponse<'_>, name: &str) -> &'a str {
    res.headers().get_one(name).unwrap()
}

#[rocket::async_test]
async fn login_redirects_to_the_provider_with_a_pending_cookie() {
    let (emu, idme) = engine(REDIRECT).await;
    let client = client(idme).await;
    let res = client.get("/auth/login?return_to=/me").dispatch().await;
    assert_eq!(res.status(), Status::SeeOther);
    let location = header(&res, "Location");
    assert!(
        location.starts_with(&format!("{}/oauth/authorize?", emu.base_url())),
        "{location}"
    );
    assert!(
        location.contains("code_challenge_method=S256"),
        "{location}"
    );
    let cookie = header(&res, "Set-Cookie");
    assert!(cookie.starts_with("idme_login_"), "{cookie}");
    assert!(
        cookie.contains("Path=/auth/callback; Max-Age=600; HttpOnly"),
        "{cookie}"
    );
    // The callback answers GET and POST (and refuses a callback without a login).
    let res = client.post("/auth/callback").dispatch().await;
    assert_eq!(res.status(), Status::BadRequest);
}

#[rocket::async_test]
async fn a_missing_engine_is_a_500_and_optional_users_are_none() {
    let client = Client::tracked(app(rocket::build())).await.unwrap();
    let res = client.get("/me").dispatch().await;
    assert_eq!(res.status(), Status::InternalServerError);
    // Rocket's blanket `Option<T>` guard turns every failure into `None`.
    let res = client.get("/").dispatch().await;
    assert_eq!(res.into_string().await.unwrap(), "hello stranger");
}

#[catch(401)]
fn own_401(req: &Request<'_>) -> Result<IdmeRejection, &'static str> {
    IdmeRejection::for_failed_guard(req).ok_or("not for idme")
}

#[rocket::async_test]
async fn an_apps_own_401_catcher_is_kept_and_can_answer_for_the_engine() {
    let (_emu, idme) = engine(REDIRECT).await;
    let rocket = app(rocket::build())
        .register("/", catchers![own_401])
        .attach(IdmeFairing::new(idme));
    let client = Client::tracked(rocket).await.unwrap();
    let res = client
        .get("/me")
        .header(Header::new("Accept", "text/html"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(header(&res, "Location"), "/auth/login?return_to=%2Fme");
}

#[rocket::async_test]
async fn from_figment_reads_the_idme_table() {
    let emu = emulator(REDIRECT).await;
    let figment = rocket::Config::figment().merge((
        "idme",
        serde_json::json!({
            "issuer": emu.issuer(),
            "client_id": emu.client_id(),
            "client_secret": emu.client_secret(),
            "redirect_uri": REDIRECT,
            "scopes": ["openid", "military"],
            "pkce": false,
        }),
    ));
    let rocket = app(rocket::custom(figment)).attach(IdmeFairing::from_figment());
    let client = Client::tracked(rocket).await.unwrap();
    let res = client.get("/auth/login").dispatch().await;
    assert_eq!(res.status(), Status::SeeOther);
    let location = header(&res, "Location");
    assert!(location.starts_with(&emu.base_url()), "{location}");
    assert!(location.contains("scope=openid+military"), "{location}");
    assert!(
        !location.contains("code_challenge"),
        "pkce = false: {location}"
    );
}

#[rocket::async_test]
async fn from_figment_refuses_a_bad_configuration() {
    let figment = rocket::Config::figment().merge((
        "idme",
        serde_json::json!({ "client_id": "x", "response_type": "token" }),
    ));
    let rocket = app(rocket::custom(figment)).attach(IdmeFairing::from_figment());
    let Err(err) = Client::tracked(rocket).await else {
        panic!("ignition must fail");
    };
    assert!(
        matches!(err.kind(), rocket::error::ErrorKind::FailedFairings(f) if f[0].name == "idme"),
        "{err}"
    );
}
