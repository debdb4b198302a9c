//! The signed-in path through actix-web, in-process (`actix_web::test::init_service` +
//! `call_service` on the example app's routes, body read to the end): a signed-in
//! `GET /` and `GET /me` against an anonymous `GET /` to the same handler, the baseline,
//! in the same run. The session cookie comes from a real sign-in against the in-memory
//! emulator.
//!
//! `cargo bench -p idme-actix --bench signed_in`

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use criterion::{Criterion, criterion_group, criterion_main};
use idme_actix::{IdmeMiddleware, IdmeUser};
use idme_core::Idme;
use idme_testkit::pair::Pair;

async fn home(idme: web::Data<Idme>, user: Option<IdmeUser>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(idme_example_support::home_page(&idme, user.as_deref()))
}

async fn me(user: IdmeUser) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(idme_example_support::me_body(&user))
}

fn bench(c: &mut Criterion) {
    let system = actix_web::rt::System::new();
    let (pair, cookie) = system.block_on(async {
        let pair = Pair::new(|b| b).await;
        let cookie = pair.sign_in().await.cookie_header();
        (pair, cookie)
    });
    let idme = pair.idme.clone();
    let app = system.block_on(test::init_service(
        App::new()
            .wrap(IdmeMiddleware)
            .route("/", web::get().to(home))
            .route("/me", web::get().to(me))
            .configure(idme_actix::configure(&idme)),
    ));
    // One request, its body read: (status, body length).
    let get_path = |path: &str, cookie: Option<&str>| {
        let mut request = test::TestRequest::get().uri(path);
        if let Some(cookie) = cookie {
            request = request.insert_header(("cookie", cookie));
        }
        let request = request.to_request();
        system.block_on(async {
            let response = test::call_service(&app, request).await;
            let status = response.status();
            (status, test::read_body(response).await.len())
        })
    };
    let cases: [(&str, &str, Option<&str>); 3] = [
        ("baseline: anonymous GET /", "/", None),
        ("signed-in GET /", "/", Some(&cookie)),
        ("signed-in GET /me", "/me", Some(&cookie)),
    ];
    let lengths = cases.map(|(name, path, cookie)| {
        let (status, length) = get_path(path, cookie);
        assert_eq!(status, StatusCode::OK, "{name}");
        length
    });
    assert_ne!(lengths[0], lengths[1], "the signed-in page names the user");
    println!("session Cookie header: {} bytes", cookie.len());
    let mut group = c.benchmark_group("actix-web request");
    for (name, path, cookie) in cases {
        group.bench_function(name, |b| {
            b.iter(|| get_path(path, std::hint::black_box(cookie)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
