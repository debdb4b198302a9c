//! The adapter contract, in-process with `oneshot`.

use axum::Router;
use axum::body::Body;
use axum::routing::{any, get, post};
use idme_axum::{Assured, Fresh, IdmeLayer, IdmeRejection, IdmeUser, SameOrigin, Verified};
use idme_core::Idme;
use idme_core::require::{Aal2, Student};
use idme_testkit::contract::{Answer, Call};
use tower::ServiceExt;

/// One request to a fresh app: the contract's routes, the sign-in routes and `IdmeLayer`
/// (both left out without an engine).
async fn call(idme: Option<Idme>, call: Call) -> Answer {
    let mut app = Router::new()
        .route(
            "/",
            get(|user: Option<IdmeUser>| async move {
                user.map_or("hello stranger".to_owned(), |u| {
                    format!("hello {}", u.sub())
                })
            }),
        )
        .route(
            "/me",
            get(|user: IdmeUser| async move { user.sub().to_owned() }),
        )
        .route(
            "/act",
            any(|user: IdmeUser| async move { user.sub().to_owned() }),
        )
        .route(
            "/act-optional",
            post(|user: Option<IdmeUser>| async move {
                user.map_or("hello stranger".to_owned(), |u| {
                    format!("hello {}", u.sub())
                })
            }),
        )
        .route(
            "/guarded",
            get(|_: SameOrigin| async { "ok" }).post(|_: SameOrigin| async { "ok" }),
        )
        .route(
            "/student",
            get(|user: Verified<Student>| async move { user.sub().to_owned() }),
        )
        .route(
            "/recent",
            get(|user: Fresh<300>| async move { user.sub().to_owned() }),
        )
        .route(
            "/assured",
            get(|user: Assured<Aal2>| async move { user.sub().to_owned() }),
        )
        .route(
            "/why",
            get(
                |user: Result<Verified<Student>, IdmeRejection>| async move {
                    match user {
                        Ok(user) => user.sub().to_owned(),
                        Err(rejection) => adapter_contract::why(rejection.reason()),
                    }
                },
            ),
        );
    if let Some(idme) = idme {
        app = app
            .merge(idme_axum::routes(&idme))
            .layer(IdmeLayer::new(idme));
    }
    let mut req = http::Request::builder().method(call.method).uri(&call.path);
    for (name, value) in &call.headers {
        req = req.header(*name, value);
    }
    let res = app
        .oneshot(req.body(Body::from(call.body)).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

idme_testkit::adapter_contract!(
    test = tokio::test,
    call = call,
    setup = ".layer(idme_axum::IdmeLayer::new(idme))",
);
