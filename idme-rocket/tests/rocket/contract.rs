//! The adapter contract, in-process with Rocket's local `Client`.

use idme_core::Idme;
use idme_core::require::{Aal2, Student};
use idme_rocket::{Assured, Fresh, IdmeFairing, IdmeRejection, IdmeUser, SameOrigin, Verified};
use idme_testkit::contract::{Answer, Call};
use rocket::http::{Header, Method};
use rocket::local::asynchronous::Client;
use rocket::{delete, get, patch, post, put, routes};

#[get("/")]
fn home(user: Option<IdmeUser>) -> String {
    user.map_or("hello stranger".to_owned(), |u| {
        format!("hello {}", u.sub())
    })
}

#[get("/me")]
fn me(user: IdmeUser) -> String {
    user.sub().to_owned()
}

#[get("/act")]
fn act_get(user: IdmeUser) -> String {
    user.sub().to_owned()
}

#[post("/act")]
fn act_post(user: IdmeUser) -> String {
    user.sub().to_owned()
}

#[put("/act")]
fn act_put(user: IdmeUser) -> String {
    user.sub().to_owned()
}

#[patch("/act")]
fn act_patch(user: IdmeUser) -> String {
    user.sub().to_owned()
}

#[delete("/act")]
fn act_delete(user: IdmeUser) -> String {
    user.sub().to_owned()
}

#[post("/act-optional")]
fn act_optional(user: Option<IdmeUser>) -> String {
    home(user)
}

#[get("/guarded")]
fn guarded_get(_guard: SameOrigin) -> &'static str {
    "ok"
}

#[post("/guarded")]
fn guarded_post(_guard: SameOrigin) -> &'static str {
    "ok"
}

#[get("/student")]
fn student(user: Verified<Student>) -> String {
    user.sub().to_owned()
}

#[get("/recent")]
fn recent(user: Fresh<300>) -> String {
    user.sub().to_owned()
}

#[get("/assured")]
fn assured(user: Assured<Aal2>) -> String {
    user.sub().to_owned()
}

#[get("/why")]
fn why(user: Result<Verified<Student>, IdmeRejection>) -> String {
    match user {
        Ok(user) => user.sub().to_owned(),
        Err(rejection) => adapter_contract::why(rejection.reason()),
    }
}

/// One request to a fresh app: the contract's routes, and `IdmeFairing` (left out without
/// an engine).
async fn call(idme: Option<Idme>, call: Call) -> Answer {
    let routes = routes![
        home,
        me,
        student,
        recent,
        assured,
        why,
        act_get,
        act_post,
        act_put,
        act_patch,
        act_delete,
        act_optional,
        guarded_get,
        guarded_post
    ];
    let mut rocket = rocket::build().mount("/", routes);
    if let Some(idme) = idme {
        rocket = rocket.attach(IdmeFairing::new(idme));
    }
    let client = Client::untracked(rocket).await.unwrap();
    let method: Method = call.method.parse().expect("a method Rocket knows");
    let mut req = client.req(method, call.path);
    for (name, value) in call.headers {
        req = req.header(Header::new(name, value));
    }
    let res = req.body(call.body).dispatch().await;
    let status = res.status().code;
    let headers = res
        .headers()
        .iter()
        .map(|h| (h.name().as_str().to_ascii_lowercase(), h.value().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: res.into_string().await.unwrap_or_default(),
    }
}

idme_testkit::adapter_contract!(
    test = rocket::async_test,
    call = call,
    setup = ".attach(IdmeFairing::new(idme))",
    without_engine_nothing_runs = true,
);
