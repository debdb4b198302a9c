//! App clients through Rocket, in-process with its local `Client`: the device flow on
//! the mounted routes, then `GET /me` behind the `IdmeUser` guard with the app's bearer
//! token (`200`) and a bad one (`401` with `WWW-Authenticate`).

use std::time::Duration;

use idme_apps::{AppClients, AppServer};
use idme_rocket::{IdmeFairing, IdmeUser};
use idme_testkit::pair::Pair;
use rocket::http::{ContentType, Header};
use rocket::local::asynchronous::Client;
use rocket::{get, routes};

#[get("/me")]
fn me(user: IdmeUser) -> (ContentType, String) {
    (ContentType::JSON, user.json().to_owned())
}

#[get("/maybe")]
fn maybe(user: Option<IdmeUser>) -> String {
    format!("{}", user.is_some())
}

fn field(body: &str, name: &str) -> String {
    let at = body.find(&format!("name=\"{name}\" value=\"")).expect(name);
    let rest = &body[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    out
}

#[rocket::async_test]
async fn a_device_signs_in_and_calls_me_with_its_bearer_token() {
    let pair = Pair::with_engine(
        |b| b,
        |e| e.extension(AppServer::new(AppClients::new(["tv"]))),
    )
    .await;
    let rocket = rocket::build()
        .mount("/", routes![me, maybe])
        .attach(IdmeFairing::new(pair.idme.clone()));
    let client = Client::untracked(rocket).await.unwrap();

    let response = client
        .post("/auth/device/code")
        .header(ContentType::Form)
        .body("client_id=tv&scope=military%20ial2")
        .dispatch()
        .await;
    assert_eq!(response.status().code, 200);
    let codes: serde_json::Value =
        serde_json::from_str(&response.into_string().await.unwrap()).unwrap();

    let cookie = pair.sign_in().await.cookie_header();
    let uri = format!(
        "/auth/device?user_code={}",
        codes["user_code"].as_str().unwrap()
    );
    let page = client
        .get(uri)
        .header(Header::new("cookie", cookie.clone()))
        .dispatch()
        .await;
    assert_eq!(page.status().code, 200);
    let page = page.into_string().await.unwrap();
    let body = form(&[
        ("user_code", &field(&page, "user_code")),
        ("csrf", &field(&page, "csrf")),
        ("decision", "allow"),
    ]);
    let done = client
        .post("/auth/device")
        .header(ContentType::Form)
        .header(Header::new("cookie", cookie.clone()))
        .header(Header::new("origin", pair.origin()))
        .body(body)
        .dispatch()
        .await;
    assert_eq!(done.status().code, 200);

    pair.advance(Duration::from_secs(5));
    let poll = form(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", "tv"),
        ("device_code", codes["device_code"].as_str().unwrap()),
    ]);
    let tokens = client
        .post("/auth/device/token")
        .header(ContentType::Form)
        .body(poll)
        .dispatch()
        .await;
    assert_eq!(tokens.status().code, 200);
    let tokens: serde_json::Value =
        serde_json::from_str(&tokens.into_string().await.unwrap()).unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    let cookie_me = client
        .get("/me")
        .header(Header::new("cookie", cookie))
        .dispatch()
        .await;
    let cookie_me = cookie_me.into_string().await.unwrap();
    let me = client
        .get("/me")
        .header(Header::new("authorization", format!("Bearer {access}")))
        .dispatch()
        .await;
    assert_eq!(me.status().code, 200);
    let me = me.into_string().await.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&me).unwrap(),
        serde_json::from_str::<serde_json::Value>(&cookie_me).unwrap()
    );
    for path in ["/me", "/maybe"] {
        let response = client
            .get(path)
            .header(Header::new("authorization", format!("Bearer {access}x")))
            .dispatch()
            .await;
        assert_eq!(response.status().code, 401, "{path}");
        let challenge = response
            .headers()
            .get_one("www-authenticate")
            .expect("a challenge");
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{challenge}"
        );
    }
}

/// A native app's sign-in (RFC 8252) with the consent page: the signed-in person's `GET
/// /auth/authorize` shows the page and no code; their same-origin `POST` allows it and
/// the code goes back to the app's loopback redirect.
#[rocket::async_test]
async fn a_native_app_gets_its_code_only_after_the_person_allows() {
    let clients = AppClients::parse("phone (Example Phone)=http://127.0.0.1/callback").unwrap();
    let pair = Pair::with_engine(|b| b, |e| e.extension(AppServer::new(clients))).await;
    let rocket = rocket::build().attach(IdmeFairing::new(pair.idme.clone()));
    let client = Client::untracked(rocket).await.unwrap();
    let cookie = pair.sign_in().await.cookie_header();
    let uri = format!(
        "/auth/authorize?{}",
        form(&[
            ("response_type", "code"),
            ("client_id", "phone"),
            ("redirect_uri", "http://127.0.0.1:5555/callback"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "s1"),
        ])
    );
    let page = client
        .get(uri)
        .header(Header::new("cookie", cookie.clone()))
        .dispatch()
        .await;
    assert_eq!(page.status().code, 200);
    assert!(page.headers().get_one("location").is_none());
    let page = page.into_string().await.unwrap();
    assert!(page.contains("Example Phone"), "{page}");
    let body = form(&[
        ("request", &field(&page, "request")),
        ("csrf", &field(&page, "csrf")),
        ("decision", "allow"),
    ]);
    let done = client
        .post("/auth/authorize")
        .header(ContentType::Form)
        .header(Header::new("cookie", cookie.clone()))
        .header(Header::new("sec-fetch-site", "same-origin"))
        .body(body)
        .dispatch()
        .await;
    assert_eq!(done.status().code, 303);
    let to = done.headers().get_one("location").unwrap();
    assert!(
        to.starts_with("http://127.0.0.1:5555/callback?code="),
        "{to}"
    );
}

/// `BASE64URL(SHA256(verifier))` of some verifier: the code is not exchanged here.
const CHALLENGE: &str = "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc";
