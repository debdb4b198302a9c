//! App clients through actix-web, in-process: the device flow on the mounted routes,
//! then `GET /me` behind the `IdmeUser` extractor with the app's bearer token (`200`)
//! and a bad one (`401` with `WWW-Authenticate`).

use std::time::Duration;

use actix_web::{App, HttpResponse, test, web};
use idme_actix::{IdmeMiddleware, IdmeUser};
use idme_apps::{AppClients, AppServer};
use idme_testkit::pair::Pair;

fn field(body: &str, name: &str) -> String {
    let at = body.find(&format!("name=\"{name}\" value=\"")).expect(name);
    let rest = &body[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

#[actix_web::test]
async fn a_device_signs_in_and_calls_me_with_its_bearer_token() {
    let pair = Pair::with_engine(
        |b| b,
        |e| e.extension(AppServer::new(AppClients::new(["tv"]))),
    )
    .await;
    let app = test::init_service(
        App::new()
            .wrap(IdmeMiddleware)
            .configure(idme_actix::configure(&pair.idme))
            .route(
                "/me",
                web::get().to(|user: IdmeUser| async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(user.json().to_owned())
                }),
            )
            .route(
                "/maybe",
                web::get()
                    .to(|user: Option<IdmeUser>| async move { format!("{}", user.is_some()) }),
            ),
    )
    .await;
    let call = |req: test::TestRequest| {
        let app = &app;
        async move {
            let response = test::call_service(app, req.to_request()).await;
            let status = response.status().as_u16();
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = test::read_body(response).await;
            (
                status,
                challenge,
                String::from_utf8_lossy(&body).into_owned(),
            )
        }
    };
    let (status, _, body) = call(
        test::TestRequest::post()
            .uri("/auth/device/code")
            .insert_header(FORM)
            .set_payload("client_id=tv&scope=military%20ial2"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let codes: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cookie = pair.sign_in().await.cookie_header();
    let page_uri = format!(
        "/auth/device?user_code={}",
        codes["user_code"].as_str().unwrap()
    );
    let (status, _, page) = call(
        test::TestRequest::get()
            .uri(&page_uri)
            .insert_header(("cookie", cookie.as_str())),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let decision = format!(
        "user_code={}&csrf={}&decision=allow",
        field(&page, "user_code"),
        url_escape(&field(&page, "csrf"))
    );
    let (status, _, done) = call(
        test::TestRequest::post()
            .uri("/auth/device")
            .insert_header(FORM)
            .insert_header(("cookie", cookie.as_str()))
            .insert_header(("origin", pair.origin().as_str()))
            .set_payload(decision),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    pair.advance(Duration::from_secs(5));
    let poll = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=tv&device_code={}",
        codes["device_code"].as_str().unwrap()
    );
    let (status, _, tokens) = call(
        test::TestRequest::post()
            .uri("/auth/device/token")
            .insert_header(FORM)
            .set_payload(poll),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let tokens: serde_json::Value = serde_json::from_str(&tokens).unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    let (_, _, cookie_me) = call(
        test::TestRequest::get()
            .uri("/me")
            .insert_header(("cookie", cookie.as_str())),
    )
    .await;
    let bearer = format!("Bearer {access}");
    let (status, _, me) = call(
        test::TestRequest::get()
            .uri("/me")
            .insert_header(("authorization", bearer.as_str())),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&me).unwrap(),
        serde_json::from_str::<serde_json::Value>(&cookie_me).unwrap()
    );
    let bad = format!("Bearer {access}x");
    for path in ["/me", "/maybe"] {
        let (status, challenge, body) = call(
            test::TestRequest::get()
                .uri(path)
                .insert_header(("authorization", bad.as_str())),
        )
        .await;
        assert_eq!(status, 401, "{path}: {body}");
        let challenge = challenge.expect("a challenge");
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{challenge}"
        );
    }
}

/// Percent-encodes a form value (the CSRF token is standard base64).
fn url_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A native app's sign-in (RFC 8252) with the consent page: the signed-in person's `GET
/// /auth/authorize` shows the page and no code; their same-origin `POST` allows it and
/// the code goes back to the app's loopback redirect.
#[actix_web::test]
async fn a_native_app_gets_its_code_only_after_the_person_allows() {
    let clients = AppClients::parse("phone (Example Phone)=http://127.0.0.1/callback").unwrap();
    let pair = Pair::with_engine(|b| b, |e| e.extension(AppServer::new(clients))).await;
    let app = test::init_service(
        App::new()
            .wrap(IdmeMiddleware)
            .configure(idme_actix::configure(&pair.idme)),
    )
    .await;
    let cookie = pair.sign_in().await.cookie_header();
    let uri = format!(
        "/auth/authorize?response_type=code&client_id=phone&redirect_uri={}&code_challenge={CHALLENGE}&code_challenge_method=S256&state=s1",
        url_escape("http://127.0.0.1:5555/callback")
    );
    let page = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("cookie", cookie.as_str()))
            .to_request(),
    )
    .await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers().get("location").is_none());
    let page = String::from_utf8_lossy(&test::read_body(page).await).into_owned();
    assert!(page.contains("Example Phone"), "{page}");
    let decision = format!(
        "request={}&csrf={}&decision=allow",
        url_escape(&field(&page, "request")),
        url_escape(&field(&page, "csrf"))
    );
    let done = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/auth/authorize")
            .insert_header(FORM)
            .insert_header(("cookie", cookie.as_str()))
            .insert_header(("sec-fetch-site", "same-origin"))
            .set_payload(decision)
            .to_request(),
    )
    .await;
    assert_eq!(done.status().as_u16(), 303);
    let to = done.headers().get("location").unwrap().to_str().unwrap();
    assert!(
        to.starts_with("http://127.0.0.1:5555/callback?code="),
        "{to}"
    );
}

/// `BASE64URL(SHA256(verifier))` of some verifier: the code is not exchanged here.
const CHALLENGE: &str = "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc";
