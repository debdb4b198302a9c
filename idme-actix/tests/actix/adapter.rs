//! What only actix-web has, in-process with `test::init_service`: `RequireUser`, the
//! engine as plain app data, a missing middleware. The cases every adapter shares are in
//! `contract.rs`.

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpResponse, test, web};
use idme_actix::{IdmeUser, RequireUser};
use idme_core::{Environment, Idme, IdmeBuilder};
use idme_testkit::{Emulator, EmulatorConfig, Persona};

/// An emulator signing in the veteran automatically, and an engine pointed at it.
async fn engine(redirect_uri: &str) -> (Emulator, Idme) {
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

#[actix_web::test]
async fn require_user_protects_a_scope() {
    let (_emu, idme) = engine(REDIRECT).await;
    let app = test::init_service(
        App::new()
            .wrap(idme_actix::IdmeMiddleware)
            .configure(idme_actix::configure(&idme))
            .configure(app_routes),
    )
    .await;
    for (path, return_to) in [
        ("/account", "%2Faccount"),
        ("/account/sid?x=1", "%2Faccount%2Fsid%3Fx%3D1"),
    ] {
        let req = test::TestRequest::get()
            .uri(path)
            .insert_header((header::ACCEPT, "text/html"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        let to = format!("/auth/login?return_to={return_to}");
        assert_eq!(header_of(&res, header::LOCATION), to);
        let req = test::TestRequest::get().uri(path).to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}
