//! The authenticated-request path: opening the session cookie of a real sign-in
//! (AES-256-GCM + JSON) against a baseline that only parses the `Cookie` header, measured
//! in the same run. No network and no signature check happen on this path.
//!
//! `cargo bench -p idme-core --bench authenticate`

use criterion::{Criterion, criterion_group, criterion_main};
use idme_core::{CallbackInput, Environment, Idme, IdmeBuilder, RequestCookies};
use idme_testkit::{Emulator, EmulatorConfig, Persona};

/// Signs the veteran in through the emulator and returns the request's `Cookie` header.
async fn signed_in() -> (Idme, String, Emulator) {
    let redirect = "http://127.0.0.1:9/auth/callback";
    let emulator = Emulator::start(EmulatorConfig {
        redirect_uris: vec![redirect.into()],
        auto_user: Some(Persona::Veteran),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    let idme = Idme::new(
        IdmeBuilder::new()
            .environment(Environment::Custom(emulator.issuer()))
            .client_id(emulator.client_id())
            .client_secret(emulator.client_secret())
            .redirect_uri(redirect)
            .build()
            .expect("config"),
    );
    let login = idme.login(None).await;
    let pending = login.set_cookies[0].clone();
    let authorize = login.header("location").expect("authorize URL").to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let answer = client.get(authorize).send().await.expect("authorize");
    let callback = answer.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let query = callback.split_once('?').map(|(_, q)| q.to_owned());
    let cookie = format!("{}={}", pending.name, pending.value);
    let done = idme
        .callback(
            CallbackInput::get(query.as_deref()),
            &RequestCookies::from_header_values([cookie.as_str()]),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let session = done
        .set_cookies
        .iter()
        .find(|c| c.name == idme.config().session_cookie_name())
        .expect("session cookie");
    let header = format!("theme=dark; {}={}; lang=en", session.name, session.value);
    (idme, header, emulator)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (idme, header, _emulator) = rt.block_on(signed_in());
    println!("session cookie header: {} bytes", header.len());
    let mut group = c.benchmark_group("authenticated request");
    // Both run as futures on the same runtime, so the baseline carries the same overhead.
    group.bench_function("baseline: parse the Cookie header", |b| {
        b.to_async(&rt).iter(|| async {
            RequestCookies::from_header_values([std::hint::black_box(header.as_str())])
        })
    });
    group.bench_function("authenticate: parse + open the session", |b| {
        b.to_async(&rt).iter(|| async {
            let cookies =
                RequestCookies::from_header_values([std::hint::black_box(header.as_str())]);
            idme.authenticate(&cookies).await.expect("signed in")
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
