//! idme-rocket in-process with Rocket's local `Client`, and a full sign-in over loopback.

use std::collections::HashMap;

use idme_core::{Environment, Idme, IdmeBuilder, ResponseMode};
use idme_rocket::{IdmeFairing, IdmeResponse, IdmeUser};
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
    engine_in(redirect_uri, ResponseMode::Query).await
}

/// Like [`engine`], with the authorization response delivered by `mode`.
async fn engine_in(redirect_uri: &str, mode: ResponseMode) -> (Emulator, Idme) {
    let emulator = emulator(redirect_uri).await;
    let config = IdmeBuilder::new()
        .environment(Environment::Custom(emulator.issuer()))
        .client_id(emulator.client_id())
        .client_secret(emulator.client_secret())
        .redirect_uri(redirect_uri)
        .response_mode(mode)
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
fn own_401(req: &Request<'_>) -> Result<IdmeResponse, &'static str> {
    IdmeResponse::for_failed_guard(req).ok_or("not for idme")
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

/// Cookies the app set, sent back on every request to it (the test only talks to one app).
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn store(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

#[rocket::async_test]
async fn signs_in_end_to_end_over_loopback() {
    end_to_end(ResponseMode::Query).await;
}

#[rocket::async_test]
async fn signs_in_end_to_end_with_form_post() {
    end_to_end(ResponseMode::FormPost).await;
}

/// The hidden fields of the emulator's form_post page.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let (value, _) = rest.split_once('"').unwrap();
            (name.to_owned(), value.replace("&amp;", "&"))
        })
        .collect()
}

async fn end_to_end(mode: ResponseMode) {
    // Rocket 0.5 binds by itself: find a free port first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app_url = format!("http://127.0.0.1:{port}");
    let (emu, idme) = engine_in(&format!("{app_url}/auth/callback"), mode).await;
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"));
    let rocket = app(rocket::custom(figment)).attach(IdmeFairing::new(idme));
    let server = rocket::tokio::spawn(rocket.launch());

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if http.get(format!("{app_url}/")).send().await.is_ok() {
            ready = true;
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "Rocket did not come up");
    let mut jar = Jar::default();

    let res = http
        .get(format!("{app_url}/auth/login?return_to=/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    jar.store(&res);
    let res = http.get(location(&res)).send().await.unwrap();
    let res = if mode == ResponseMode::FormPost {
        assert_eq!(res.status(), 200, "authorize answers a form_post page");
        let fields = hidden_fields(&res.text().await.unwrap());
        assert!(fields.iter().any(|(k, _)| k == "code"), "{fields:?}");
        http.post(format!("{app_url}/auth/callback"))
            .header("cookie", jar.header())
            .form(&fields)
            .send()
            .await
            .unwrap()
    } else {
        assert!(res.status().is_redirection(), "authorize: {}", res.status());
        let callback = location(&res);
        assert!(
            callback.starts_with(&format!("{app_url}/auth/callback?")),
            "{callback}"
        );
        http.get(callback)
            .header("cookie", jar.header())
            .send()
            .await
            .unwrap()
    };
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/me");
    jar.store(&res);
    assert!(jar.0.contains_key("idme_session"));
    assert!(
        jar.0.keys().all(|k| !k.starts_with("idme_login_")),
        "the pending-login cookie is deleted"
    );

    let res = http
        .get(format!("{app_url}/me"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(me["sub"], Persona::Veteran.sub());

    // Verified<require::Ial2>: the veteran is verified at IAL2; an unverified person gets
    // 403 with a link asking ID.me for the IAL2 policy.
    let res = http
        .get(format!("{app_url}/verified/ial2"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), Persona::Veteran.sub());
    let res = http
        .get(format!("{app_url}/"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.text().await.unwrap(),
        format!("hello {}", Persona::Veteran.sub())
    );

    // Logout needs a same-origin signal: refused without one, or when the browser says
    // the request is cross-site; `Sec-Fetch-Site: same-origin` alone is enough.
    let no_signal: &[(&str, &str)] = &[];
    for headers in [
        no_signal,
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "https://evil.example")],
    ] {
        let mut req = http
            .post(format!("{app_url}/auth/logout"))
            .header("cookie", jar.header());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 403, "logout with {headers:?}");
    }
    let res = http
        .post(format!("{app_url}/auth/logout"))
        .header("cookie", jar.header())
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    jar.store(&res);
    assert!(
        !jar.0.contains_key("idme_session"),
        "logout clears the session"
    );
    let res = http
        .get(format!("{app_url}/me"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    emu.set_auto_user(Some(Persona::Unverified));
    let mut jar = Jar::default();
    sign_in(&http, &app_url, mode, &mut jar).await;
    let res = http
        .get(format!("{app_url}/verified/ial2"))
        .header("cookie", jar.header())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "verification_required");
    assert!(
        body["verify_url"].as_str().unwrap().starts_with(
            "/auth/login?policy=http%3A%2F%2Fidmanagement.gov%2Fns%2Fassurance%2Fial%2F2%2Faal%2F2&"
        ),
        "{body}"
    );
    server.abort();
}

/// A whole sign-in (login, provider, callback) storing the cookies in `jar`.
async fn sign_in(http: &reqwest::Client, app: &str, mode: ResponseMode, jar: &mut Jar) {
    let res = http
        .get(format!("{app}/auth/login?return_to=/me"))
        .send()
        .await
        .unwrap();
    jar.store(&res);
    let res = http.get(location(&res)).send().await.unwrap();
    let res = if mode == ResponseMode::FormPost {
        let fields = hidden_fields(&res.text().await.unwrap());
        http.post(format!("{app}/auth/callback"))
            .header("cookie", jar.header())
            .form(&fields)
            .send()
            .await
            .unwrap()
    } else {
        http.get(location(&res))
            .header("cookie", jar.header())
            .send()
            .await
            .unwrap()
    };
    assert_eq!(res.status(), 303);
    jar.store(&res);
}
