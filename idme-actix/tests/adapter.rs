//! idme-actix in-process with `test::init_service`, and a full sign-in over loopback.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpResponse, HttpServer, test, web};
use idme_actix::{IdmeUser, RequireUser};
use idme_core::{Environment, Idme, IdmeBuilder, ResponseMode};
use idme_testkit::{Emulator, EmulatorConfig, Persona};

/// An emulator signing in the veteran automatically, and an engine pointed at it.
async fn engine(redirect_uri: &str) -> (Emulator, Idme) {
    engine_in(redirect_uri, ResponseMode::Query).await
}

/// Like [`engine`], with the authorization response delivered by `mode`.
async fn engine_in(redirect_uri: &str, mode: ResponseMode) -> (Emulator, Idme) {
    let emulator = Emulator::start(EmulatorConfig {
        redirect_uris: vec![redirect_uri.to_owned()],
        auto_user: Some(Persona::Veteran),
        ..Default::default()
    })
    .await
    .unwrap();
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

/// The example contract's routes plus a scope protected by `RequireUser`.
fn app_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/",
        web::get().to(|user: Option<IdmeUser>| async move {
            match user {
                Some(u) => format!("hello {}", u.sub()),
                None => "hello stranger".to_owned(),
            }
        }),
    )
    .route(
        "/me",
        web::get().to(|user: IdmeUser| async move { HttpResponse::Ok().json(user.to_json()) }),
    )
    .route(
        "/verified/ial2",
        web::get().to(
            |user: idme_actix::Verified<idme_core::require::Ial2>| async move {
                user.sub().to_owned()
            },
        ),
    )
    .service(
        web::scope("/account")
            .wrap(RequireUser::new())
            .route("", web::get().to(|| async { "account page" }))
            .route(
                "/sid",
                web::get().to(|user: IdmeUser| async move { user.session_id().to_owned() }),
            ),
    );
}

const REDIRECT: &str = "http://127.0.0.1:8080/auth/callback";

fn header_of<B>(res: &actix_web::dev::ServiceResponse<B>, name: header::HeaderName) -> &str {
    res.headers().get(name).unwrap().to_str().unwrap()
}

#[actix_web::test]
async fn login_redirects_to_the_provider_with_a_pending_cookie() {
    let (emu, idme) = engine(REDIRECT).await;
    let app = test::init_service(
        App::new()
            .wrap(idme_actix::IdmeMiddleware)
            .configure(idme_actix::configure(&idme)),
    )
    .await;
    let req = test::TestRequest::get()
        .uri("/auth/login?return_to=/me")
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = header_of(&res, header::LOCATION);
    assert!(
        location.starts_with(&format!("{}/oauth/authorize?", emu.base_url())),
        "{location}"
    );
    assert!(
        location.contains("code_challenge_method=S256"),
        "{location}"
    );
    let cookie = header_of(&res, header::SET_COOKIE);
    assert!(cookie.starts_with("idme_login_"), "{cookie}");
    assert!(
        cookie.contains("Path=/auth/callback; Max-Age=600; HttpOnly"),
        "{cookie}"
    );
    // Logout is POST only; the callback answers GET and POST.
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/auth/logout").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let res = test::call_service(
        &app,
        test::TestRequest::post().uri("/auth/callback").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn a_missing_engine_is_a_500_that_says_so() {
    let app = test::init_service(
        App::new()
            .wrap(idme_actix::IdmeMiddleware)
            .configure(app_routes),
    )
    .await;
    for path in ["/me", "/account"] {
        let res = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        let body = test::read_body(res).await;
        let body = std::str::from_utf8(&body).unwrap();
        assert!(body.contains("idme_actix::configure(&idme)"), "{body}");
    }
    // actix-web's blanket `Option<T>` extractor turns the error into `None`, but
    // `IdmeMiddleware` still answers the 500: a missing engine is not an anonymous user.
    let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[actix_web::test]
async fn an_engine_shared_as_plain_app_data_is_found() {
    let (_emu, idme) = engine(REDIRECT).await;
    let app = test::init_service(
        App::new()
            .wrap(idme_actix::IdmeMiddleware)
            .app_data(idme)
            .configure(app_routes),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/me").to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_missing_middleware_is_a_500_that_says_so() {
    let (_emu, idme) = engine(REDIRECT).await;
    let app = test::init_service(
        App::new()
            .configure(idme_actix::configure(&idme))
            .configure(app_routes),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/me").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = test::read_body(res).await;
    let body = std::str::from_utf8(&body).unwrap();
    assert!(body.contains("wrap(idme_actix::IdmeMiddleware)"), "{body}");
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

#[actix_web::test]
async fn signs_in_end_to_end_over_loopback() {
    end_to_end(ResponseMode::Query).await;
}

#[actix_web::test]
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
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let app = format!("http://{}", listener.local_addr().unwrap());
    let (emu, idme) = engine_in(&format!("{app}/auth/callback"), mode).await;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(idme_actix::IdmeMiddleware)
            .configure(idme_actix::configure(&idme))
            .configure(app_routes)
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut jar = Jar::default();

    let res = http
        .get(format!("{app}/auth/login?return_to=/me"))
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
        http.post(format!("{app}/auth/callback"))
            .header("cookie", jar.header())
            .form(&fields)
            .send()
            .await
            .unwrap()
    } else {
        assert!(res.status().is_redirection(), "authorize: {}", res.status());
        let callback = location(&res);
        assert!(
            callback.starts_with(&format!("{app}/auth/callback?")),
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
        .get(format!("{app}/me"))
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
        .get(format!("{app}/verified/ial2"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), Persona::Veteran.sub());
    let sid = http
        .get(format!("{app}/account/sid"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(sid.status(), 200);
    assert!(!sid.text().await.unwrap().is_empty());

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
            .post(format!("{app}/auth/logout"))
            .header("cookie", jar.header());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 403, "logout with {headers:?}");
    }
    let res = http
        .post(format!("{app}/auth/logout"))
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
        .get(format!("{app}/me"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    emu.set_auto_user(Some(Persona::Unverified));
    let mut jar = Jar::default();
    sign_in(&http, &app, mode, &mut jar).await;
    let res = http
        .get(format!("{app}/verified/ial2"))
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
    handle.stop(true).await;
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
