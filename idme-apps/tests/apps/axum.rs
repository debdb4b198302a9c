//! App clients through axum, in-process: the device flow on the mounted routes, then
//! `GET /me` behind the `IdmeUser` extractor with the app's bearer token (`200`) and a
//! bad one (`401` with `WWW-Authenticate`); `GET /recent` behind `Fresh<300>` (`401` with
//! RFC 9470's challenge once the approving sign-in is older).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Method, Request};
use idme_apps::{AppClients, AppServer};
use idme_axum::{Fresh, IdmeLayer, IdmeUser};
use idme_testkit::pair::Pair;
use tower::ServiceExt as _;

fn app(pair: &Pair) -> Router {
    Router::new()
        .route(
            "/me",
            get(|user: IdmeUser| async move { user.json().to_owned() }),
        )
        .route(
            "/recent",
            get(|user: Fresh<300>| async move { user.sub().to_owned() }),
        )
        .route(
            "/maybe",
            get(|user: Option<IdmeUser>| async move { format!("{}", user.is_some()) }),
        )
        .merge(idme_axum::routes(&pair.idme))
        .layer(IdmeLayer::new(pair.idme.clone()))
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, http::HeaderMap, String) {
    let mut request = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    (
        parts.status.as_u16(),
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn field(body: &str, name: &str) -> String {
    let at = body.find(&format!("name=\"{name}\" value=\"")).expect(name);
    let rest = &body[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

#[tokio::test]
async fn a_device_signs_in_and_calls_me_with_its_bearer_token() {
    let pair = Pair::with_engine(
        |b| b,
        |e| e.extension(AppServer::new(AppClients::new(["tv"]))),
    )
    .await;
    let app = app(&pair);
    let (status, headers, body) = send(
        &app,
        Method::POST,
        "/auth/device/code",
        &[FORM],
        "client_id=tv&scope=military%20ial2",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let codes = json(&body);
    let user_code = codes["user_code"].as_str().unwrap();
    let device_code = codes["device_code"].as_str().unwrap();

    let browser = pair.sign_in().await;
    let cookie = browser.cookie_header();
    let page_uri = format!("/auth/device?user_code={user_code}");
    let (status, _, page) = send(&app, Method::GET, &page_uri, &[("cookie", &cookie)], "").await;
    assert_eq!(status, 200, "{page}");
    let decision = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("user_code", &field(&page, "user_code"))
        .append_pair("csrf", &field(&page, "csrf"))
        .append_pair("decision", "allow")
        .finish();
    let origin = pair.origin();
    let headers = [FORM, ("cookie", &cookie), ("origin", &origin)];
    let (status, _, done) = send(&app, Method::POST, "/auth/device", &headers, &decision).await;
    assert_eq!(status, 200, "{done}");

    pair.advance(Duration::from_secs(5));
    let poll = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=tv&device_code={device_code}"
    );
    let (status, _, tokens) = send(&app, Method::POST, "/auth/device/token", &[FORM], &poll).await;
    assert_eq!(status, 200, "{tokens}");
    let access = json(&tokens)["access_token"].as_str().unwrap().to_owned();

    let (_, _, cookie_me) = send(&app, Method::GET, "/me", &[("cookie", &cookie)], "").await;
    let bearer = format!("Bearer {access}");
    let (status, _, me) = send(&app, Method::GET, "/me", &[("authorization", &bearer)], "").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(json(&me), json(&cookie_me));
    let (status, _, recent) = send(
        &app,
        Method::GET,
        "/recent",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(status, 200, "{recent}");
    // The approving sign-in gets older than 300 s (and the skew); the token still lives.
    pair.advance(Duration::from_secs(361));
    let (status, headers, body) = send(
        &app,
        Method::GET,
        "/recent",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_user_authentication\""),
        "{challenge}"
    );
    assert!(challenge.contains("max_age=\"300\""), "{challenge}");
    assert_eq!(json(&body)["error"], "insufficient_user_authentication");
    let (status, _, me) = send(&app, Method::GET, "/me", &[("authorization", &bearer)], "").await;
    assert_eq!(status, 200, "{me}");

    for path in ["/me", "/maybe"] {
        let bad = format!("Bearer {access}x");
        let (status, headers, body) =
            send(&app, Method::GET, path, &[("authorization", &bad)], "").await;
        assert_eq!(status, 401, "{path}: {body}");
        let challenge = headers["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{challenge}"
        );
        assert_eq!(json(&body)["error"], "invalid_token");
    }
}

/// A native app's sign-in (RFC 8252) with the consent page: the signed-in person's `GET
/// /auth/authorize` shows the page and no code; their same-origin `POST` allows it and
/// the code goes back to the app's loopback redirect.
#[tokio::test]
async fn a_native_app_gets_its_code_only_after_the_person_allows() {
    let clients = AppClients::parse("phone (Example Phone)=http://127.0.0.1/callback").unwrap();
    let pair = Pair::with_engine(|b| b, |e| e.extension(AppServer::new(clients))).await;
    let app = app(&pair);
    let cookie = pair.sign_in().await.cookie_header();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "phone")
        .append_pair("redirect_uri", "http://127.0.0.1:5555/callback")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "s1")
        .finish();
    let uri = format!("/auth/authorize?{query}");
    let (status, headers, page) = send(&app, Method::GET, &uri, &[("cookie", &cookie)], "").await;
    assert_eq!(status, 200, "{page}");
    assert!(headers.get("location").is_none());
    assert!(page.contains("Example Phone"), "{page}");
    let decision = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("request", &field(&page, "request"))
        .append_pair("csrf", &field(&page, "csrf"))
        .append_pair("decision", "allow")
        .finish();
    let headers = [FORM, ("cookie", &cookie), ("sec-fetch-site", "same-origin")];
    let (status, headers, body) =
        send(&app, Method::POST, "/auth/authorize", &headers, &decision).await;
    assert_eq!(status, 303, "{body}");
    let to = headers["location"].to_str().unwrap();
    assert!(
        to.starts_with("http://127.0.0.1:5555/callback?code="),
        "{to}"
    );
}

/// `BASE64URL(SHA256(verifier))` of some verifier: the code is not exchanged here.
const CHALLENGE: &str = "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc";
