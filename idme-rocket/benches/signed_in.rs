//! The signed-in path through Rocket, in-process (`rocket::local::asynchronous::Client`
//! on the example app's routes, body read to the end): a signed-in `GET /` and `GET /me`
//! against an anonymous `GET /` to the same handler, the baseline, in the same run. The
//! session cookie comes from a real sign-in against the in-memory emulator.
//!
//! `cargo bench -p idme-rocket --bench signed_in`

use criterion::{Criterion, criterion_group, criterion_main};
use idme_core::Idme;
use idme_rocket::{IdmeFairing, IdmeUser};
use idme_testkit::pair::Pair;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use rocket::response::content::RawHtml;
use rocket::{State, get, routes};

#[get("/")]
fn home(idme: &State<Idme>, user: Option<IdmeUser>) -> RawHtml<String> {
    RawHtml(idme_example_support::home_page(idme, user.as_deref()))
}

#[get("/me")]
fn me(user: IdmeUser) -> (ContentType, String) {
    (ContentType::JSON, idme_example_support::me_body(&user))
}

/// One request through the local client, its body read: (status, body length).
async fn get_path(client: &Client, path: &'static str, cookie: Option<&str>) -> (Status, usize) {
    let mut request = client.get(path);
    if let Some(cookie) = cookie {
        request = request.header(Header::new("Cookie", cookie.to_owned()));
    }
    let response = request.dispatch().await;
    let status = response.status();
    let body = response.into_bytes().await.unwrap_or_default();
    (status, body.len())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = rt.block_on(async {
        let pair = Pair::new(|b| b).await;
        let cookie = pair.sign_in().await.cookie_header();
        let figment = rocket::Config::figment().merge(("log_level", "off"));
        let rocket = rocket::custom(figment)
            .attach(IdmeFairing::new(pair.idme.clone()))
            .mount("/", routes![home, me]);
        // Untracked: every request carries exactly the Cookie header given.
        let client = Client::untracked(rocket).await.expect("a valid Rocket");
        (client, cookie)
    });
    let (client, cookie) = client;
    let cases: [(&str, &'static str, Option<&str>); 3] = [
        ("baseline: anonymous GET /", "/", None),
        ("signed-in GET /", "/", Some(&cookie)),
        ("signed-in GET /me", "/me", Some(&cookie)),
    ];
    let lengths = cases.map(|(name, path, cookie)| {
        let (status, length) = rt.block_on(get_path(&client, path, cookie));
        assert_eq!(status, Status::Ok, "{name}");
        length
    });
    assert_ne!(lengths[0], lengths[1], "the signed-in page names the user");
    println!("session Cookie header: {} bytes", cookie.len());
    let mut group = c.benchmark_group("Rocket request");
    for (name, path, cookie) in cases {
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| get_path(&client, path, std::hint::black_box(cookie)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
