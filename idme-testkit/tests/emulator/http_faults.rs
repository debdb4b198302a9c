//! `Fault::Http`: each way an endpoint can fail, seen from a plain HTTP client.

use std::time::{Duration, Instant};

use idme_testkit::{Emulator, EmulatorConfig, Fault, HttpEndpoint, HttpFailure};

async fn broken(failure: HttpFailure) -> (Emulator, reqwest::Client, String) {
    let idme = Emulator::start(EmulatorConfig::default())
        .await
        .expect("start");
    idme.set_faults([Fault::Http {
        endpoint: HttpEndpoint::Jwks,
        failure,
    }]);
    let url = format!("{}/oidc/.well-known/jwks", idme.base_url());
    (idme, reqwest::Client::new(), url)
}

#[tokio::test]
async fn jwks_failures() {
    let (idme, http, url) = broken(HttpFailure::ServerError).await;
    assert_eq!(http.get(&url).send().await.expect("get").status(), 500);
    // Other endpoints are untouched.
    let discovery = format!("{}/.well-known/openid-configuration", idme.issuer());
    assert_eq!(
        http.get(&discovery).send().await.expect("get").status(),
        200
    );

    let (_idme, http, url) = broken(HttpFailure::WrongContentType).await;
    let res = http.get(&url).send().await.expect("get");
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert!(res.text().await.expect("body").contains("\"keys\""));

    let (_idme, http, url) = broken(HttpFailure::Garbage).await;
    let res = http.get(&url).send().await.expect("get");
    assert_eq!(res.headers()["content-type"], "application/json");
    assert!(serde_json::from_str::<serde_json::Value>(&res.text().await.expect("body")).is_err());

    let (_idme, http, url) = broken(HttpFailure::Huge).await;
    let mut res = http.get(&url).send().await.expect("get");
    assert!(res.content_length().is_none());
    let mut read = 0;
    while read < 4 * 1024 * 1024 {
        read += res
            .chunk()
            .await
            .expect("chunk")
            .expect("the body goes on")
            .len();
    }

    let (_idme, http, url) = broken(HttpFailure::Reset).await;
    let failed = match http.get(&url).send().await {
        Ok(res) => res.bytes().await.is_err(),
        Err(_) => true,
    };
    assert!(failed, "the connection is dropped");

    let (_idme, http, url) = broken(HttpFailure::Trickle).await;
    let started = Instant::now();
    let mut res = http.get(&url).send().await.expect("get");
    assert_eq!(res.chunk().await.expect("chunk").expect("a byte").len(), 1);
    assert_eq!(res.chunk().await.expect("chunk").expect("a byte").len(), 1);
    assert!(started.elapsed() >= Duration::from_millis(200));

    let (_idme, http, url) = broken(HttpFailure::Hang).await;
    let hung = tokio::time::timeout(Duration::from_millis(500), http.get(&url).send()).await;
    assert!(hung.is_err(), "no answer");
}
