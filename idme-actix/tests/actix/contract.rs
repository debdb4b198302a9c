//! The adapter contract, in-process with `test::init_service`.

use actix_web::http::Method;
use actix_web::{App, test, web};
use idme_actix::{Assured, Fresh, IdmeMiddleware, IdmeRejection, IdmeUser, SameOrigin, Verified};
use idme_core::Idme;
use idme_core::require::{Aal2, Student};
use idme_testkit::contract::{Answer, Call};

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/",
        web::get().to(|user: Option<IdmeUser>| async move {
            user.map_or("hello stranger".to_owned(), |u| {
                format!("hello {}", u.sub())
            })
        }),
    )
    .route(
        "/me",
        web::get().to(|user: IdmeUser| async move { user.sub().to_owned() }),
    )
    .route(
        "/act",
        web::route().to(|user: IdmeUser| async move { user.sub().to_owned() }),
    )
    .route(
        "/act-optional",
        web::post().to(|user: Option<IdmeUser>| async move {
            user.map_or("hello stranger".to_owned(), |u| {
                format!("hello {}", u.sub())
            })
        }),
    )
    .route("/guarded", web::route().to(|_: SameOrigin| async { "ok" }))
    .route(
        "/student",
        web::get().to(|user: Verified<Student>| async move { user.sub().to_owned() }),
    )
    .route(
        "/recent",
        web::get().to(|user: Fresh<300>| async move { user.sub().to_owned() }),
    )
    .route(
        "/assured",
        web::get().to(|user: Assured<Aal2>| async move { user.sub().to_owned() }),
    )
    .route(
        "/why",
        web::get().to(
            |user: Result<Verified<Student>, IdmeRejection>| async move {
                match user {
                    Ok(user) => user.sub().to_owned(),
                    Err(rejection) => adapter_contract::why(rejection.reason()),
                }
            },
        ),
    );
}

/// One request to a fresh app: `IdmeMiddleware`, the contract's routes, and the engine
/// with the sign-in routes (left out without an engine).
async fn call(idme: Option<Idme>, call: Call) -> Answer {
    let app = test::init_service(
        App::new()
            .wrap(IdmeMiddleware)
            .configure(|cfg| {
                if let Some(idme) = &idme {
                    idme_actix::configure(idme)(cfg);
                }
            })
            .configure(routes),
    )
    .await;
    let method = Method::from_bytes(call.method.as_bytes()).unwrap();
    let mut req = test::TestRequest::default().method(method).uri(&call.path);
    for (name, value) in call.headers {
        req = req.insert_header((name, value));
    }
    req = req.set_payload(call.body);
    let res = test::call_service(&app, req.to_request()).await;
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let body = test::read_body(res).await;
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

idme_testkit::adapter_contract!(
    test = actix_web::test,
    call = call,
    setup = "idme_actix::configure(&idme)",
);
