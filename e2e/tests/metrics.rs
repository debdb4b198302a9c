//! `METRICS_ADDR` of the example apps: the engine's metrics in Prometheus text at
//! `GET /metrics` on that address, and never on `BIND_ADDR`, in each framework (emulator
//! mode). The refusal of an equal address is shared code, so one framework shows it; the
//! address checks are unit-tested in `idme-example-support`.

use idme_e2e::process::{ExampleApp, Target};

const PACKAGE: &str = "idme-example-axum";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_listener_only_axum() {
    served_on_their_own_listener_only("idme-example-axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_listener_only_actix() {
    served_on_their_own_listener_only("idme-example-actix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_listener_only_rocket() {
    served_on_their_own_listener_only("idme-example-rocket").await;
}

/// `package` with `METRICS_ADDR`: a refused callback shows in `/metrics` there, and the
/// public listener answers `/metrics` with `404`.
async fn served_on_their_own_listener_only(package: &str) {
    let port = Target::free_port();
    let metrics_port = Target::free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let app = ExampleApp::start(package, port, &[("METRICS_ADDR", metrics_addr.clone())]).await;
    assert!(
        app.output()
            .contains(&format!("http://{metrics_addr}/metrics")),
        "{package}: the address is logged: {}",
        app.output()
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    // A refused callback, to be counted.
    let refused = client
        .get(app.url("/auth/callback?code=x&state=y"))
        .send()
        .await
        .expect("GET /auth/callback");
    assert_eq!(refused.status(), 400);

    let scrape = client
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .expect("GET /metrics on METRICS_ADDR");
    assert_eq!(scrape.status(), 200);
    let content_type = scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = scrape.text().await.expect("body");
    assert!(
        text.contains("idme_sign_ins_total{outcome=\"invalid_state\"} 1"),
        "{text}"
    );
    // Discovery at startup, timed as a Prometheus histogram.
    assert!(
        text.contains("idme_provider_request_duration_seconds_bucket{endpoint=\"discovery\""),
        "{text}"
    );

    let public = client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics on BIND_ADDR");
    assert_eq!(
        public.status(),
        404,
        "{package}: never on the public listener"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_the_public_address_are_refused() {
    let port = Target::free_port();
    let same = format!("127.0.0.1:{port}");
    let env = [("BIND_ADDR", same.clone()), ("METRICS_ADDR", same)];
    let (status, output) = ExampleApp::run_to_exit(PACKAGE, &env).await;
    assert!(!status.success(), "started anyway; output:\n{output}");
    assert!(
        output.contains("METRICS_ADDR must differ from BIND_ADDR"),
        "{output}"
    );
}
