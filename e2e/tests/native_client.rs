//! oidc-provider's registration of a native app (RFC 8252), checked without the app: the
//! scripted browser signs in for a loopback listener on a port chosen at run time, and the
//! code is redeemed as a public client (PKCE, no secret). The command-line app's own suite
//! (`cli.rs`) relies on both.

use idme_e2e::cli::{CliHome, issued_tokens, native_provider, scripted_browser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// A PKCE verifier and its S256 challenge (BASE64URL(SHA-256(verifier))).
const VERIFIER: &str = "native-client-test-verifier-0123456789-abcdefghijkl";
const CHALLENGE: &str = "EN1l6t8PdDo1tjik3hJSI0x7AW7FJD9LVVM1UK6tROo";

fn authorize_url(issuer: &str, client_id: &str, redirect: &str) -> Url {
    Url::parse_with_params(
        &format!("{issuer}/auth"),
        [
            ("client_id", client_id),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("redirect_uri", redirect),
            ("state", "state-1234567890"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .expect("a URL")
}

/// Serves one request on `listener` with a "close this tab" page; returns its request line.
async fn one_callback(listener: tokio::net::TcpListener) -> String {
    let (mut socket, _) = listener.accept().await.expect("the browser connects");
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = socket.read(&mut buf).await.expect("reading the request");
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let body = "<p>Signed in: you can close this tab.</p>";
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    socket
        .write_all(answer.as_bytes())
        .await
        .expect("answering");
    let head = String::from_utf8_lossy(&head);
    head.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_accepts_the_native_client_on_any_loopback_port() {
    let provider = native_provider().await;
    let cli = CliHome::new("native-client");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let port = listener.local_addr().expect("bound").port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let url = authorize_url(provider.issuer(), provider.client_id(), &redirect);
    let served = tokio::spawn(one_callback(listener));

    // Started the way the app starts a browser: the URL as the last argument.
    let opened = tokio::process::Command::new(scripted_browser())
        .arg(url.as_str())
        .env("IDME_E2E_BROWSER_REPORT", cli.report_file())
        .status()
        .await
        .expect("the scripted browser runs");
    assert!(opened.success(), "the opener returns at once, successfully");
    let request = tokio::time::timeout(std::time::Duration::from_secs(30), served)
        .await
        .expect("the callback arrives")
        .expect("the listener task");
    let report = cli.browser_report().await;
    assert_eq!(report["status"], 200, "{report}\n{}", provider.output());
    assert!(
        report["body"]
            .as_str()
            .is_some_and(|b| b.contains("close this tab")),
        "{report}"
    );
    let landed = Url::parse(report["url"].as_str().expect("a URL")).expect("a URL");
    assert!(landed.as_str().starts_with(&redirect), "{landed}");
    assert!(request.starts_with("GET /callback?"), "{request}");
    let query: std::collections::HashMap<String, String> =
        landed.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("state").map(String::as_str),
        Some("state-1234567890")
    );
    assert_eq!(
        query.get("iss").map(String::as_str),
        Some(provider.issuer())
    );
    let code = query.get("code").expect("a code");

    // A public client: no secret, the PKCE verifier, the exact redirect URI of this login.
    let http = reqwest::Client::new();
    let token = format!("{}/token", provider.issuer());
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("client_id", provider.client_id()),
        ("code_verifier", VERIFIER),
    ];
    let answer = http
        .post(&token)
        .form(&form)
        .send()
        .await
        .expect("POST /token");
    let status = answer.status();
    let body = answer.text().await.expect("a body");
    assert_eq!(status, 200, "{body}");
    let tokens: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let issued = issued_tokens(&provider).await;
    for name in ["access_token", "refresh_token", "id_token"] {
        let value = tokens[name].as_str().unwrap_or_else(|| panic!("no {name}"));
        assert!(
            issued.iter().any(|t| t == value),
            "/__issued lists the {name}"
        );
    }
    let stats = provider.stats().await;
    assert_eq!(
        stats["token_auth_methods"],
        serde_json::json!({ "none": 1 }),
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_refuses_another_loopback_path_and_a_missing_challenge() {
    let provider = native_provider().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let other_path = authorize_url(
        provider.issuer(),
        provider.client_id(),
        "http://127.0.0.1:4567/other",
    );
    let r = http.get(other_path).send().await.expect("GET /auth");
    assert_eq!(r.status(), 400, "only the registered path, any port");
    let mut no_pkce = authorize_url(
        provider.issuer(),
        provider.client_id(),
        "http://127.0.0.1:4567/callback",
    );
    let kept: Vec<(String, String)> = no_pkce
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    no_pkce.query_pairs_mut().clear().extend_pairs(kept);
    let r = http.get(no_pkce).send().await.expect("GET /auth");
    let to = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        r.status() == 303 && to.contains("error=invalid_request"),
        "PKCE is required: {} {to}",
        r.status()
    );
}
