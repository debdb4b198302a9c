//! The signed-in path through axum, in-process (`tower::ServiceExt::oneshot` on the
//! router of the example app, body read to the end): a signed-in `GET /` and `GET /me`
//! against an anonymous `GET /` to the same handler, the baseline, in the same run. The
//! session cookie comes from a real sign-in against the in-memory emulator.
//!
//! `cargo bench -p idme-axum --bench signed_in`

use axum::Router;
use axum::body::Body;
use axum::response::Html;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, StatusCode};
use idme_axum::{IdmeLayer, IdmeUser};
use idme_core::Idme;
use idme_testkit::pair::Pair;
use tower::ServiceExt as _;

/// The example app's `/` and `/me`, behind the engine layer.
fn app(idme: Idme) -> Router {
    Router::new()
        .route(
            "/",
            get(
                |axum::Extension(idme): axum::Extension<Idme>, user: Option<IdmeUser>| async move {
                    Html(idme_example_support::home_page(&idme, user.as_deref()))
                },
            ),
        )
        .route(
            "/me",
            get(|user: IdmeUser| async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    idme_example_support::me_body(&user),
                )
            }),
        )
        .layer(IdmeLayer::new(idme))
}

/// One request through the router, its body read: (status, body length).
async fn get_path(app: &Router, path: &str, cookie: Option<&str>) -> (StatusCode, usize) {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(http::header::COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, body.len())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pair = rt.block_on(Pair::new(|b| b));
    let cookie = rt.block_on(pair.sign_in()).cookie_header();
    let app = app(pair.idme.clone());
    let cases: [(&str, &str, Option<&str>); 3] = [
        ("baseline: anonymous GET /", "/", None),
        ("signed-in GET /", "/", Some(&cookie)),
        ("signed-in GET /me", "/me", Some(&cookie)),
    ];
    let lengths = cases.map(|(name, path, cookie)| {
        let (status, length) = rt.block_on(get_path(&app, path, cookie));
        assert_eq!(status, StatusCode::OK, "{name}");
        length
    });
    assert_ne!(lengths[0], lengths[1], "the signed-in page names the user");
    println!("session Cookie header: {} bytes", cookie.len());
    let mut group = c.benchmark_group("axum request");
    for (name, path, cookie) in cases {
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| get_path(&app, path, std::hint::black_box(cookie)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
