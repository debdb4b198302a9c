//! The security-event receiver against each example app as a real process, with a
//! transmitter that is not the emulator (its own keys and JWKS): every refusal RFC 8935
//! names, a replayed `jti`, tokens that are not SETs, a rotated key and an unknown one, a
//! 2 MB body; then "account disabled" ending the person's browser session and device grant
//! on two instances sharing `redis-server`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idme_testkit::Persona;
use idme_testkit::browser::Browser;
use idme_testkit::set_transmitter::{SetTransmitter, iss_sub, risc_event};
use serde_json::{Value, json};

use crate::apps::{assert_invalid_token, device_tokens, get_bearer};
use crate::sessions::{Pair, pair_with};

/// The audience the apps register.
const AUDIENCE: &str = "idme-e2e-receiver";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Posts `body` with `content_type`: the status and the `err` of a refusal ("" if none).
async fn post_as(url: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let res = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("the receiver answers");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, body["err"].as_str().unwrap_or_default().to_owned())
}

/// Security events, received by two instances sharing Redis.
pub async fn security_events_received(package: &str) {
    let tx = SetTransmitter::new(AUDIENCE).expect("a transmitter");
    let jwks = tx.serve().await.expect("its JWKS served");
    let extra = [
        ("IDME_EVENTS_AUDIENCE", AUDIENCE.to_owned()),
        ("IDME_EVENTS_JWKS_URL", jwks),
    ];
    let Pair {
        redis: _redis,
        emulator,
        a,
        b,
    } = pair_with(package, &extra).await;
    let events = b.url("/auth/events");
    let subject = iss_sub(&emulator.issuer(), Persona::Veteran.sub());
    let disabled = risc_event("account-disabled");
    let claims = || tx.claims(&disabled, subject.clone(), now());
    let post = |token: String| {
        let events = events.clone();
        async move { post_as(&events, "application/secevent+jwt", token.into_bytes()).await }
    };

    // Refusals, each with its RFC 8935 error.
    let mut wrong_iss = claims();
    wrong_iss["iss"] = json!("https://evil.example");
    let mut wrong_aud = claims();
    wrong_aud["aud"] = json!("someone-else");
    let id_token = json!({"iss": emulator.issuer(), "aud": emulator.client_id(),
        "sub": Persona::Veteran.sub(), "nonce": "n", "iat": now(), "exp": now() + 600});
    let signed = tx.sign(&claims());
    let (head, _) = signed.rsplit_once('.').expect("a JWS");
    let cases = [
        ("wrong iss", tx.sign(&wrong_iss), "invalid_issuer"),
        ("wrong aud", tx.sign(&wrong_aud), "invalid_audience"),
        ("alg none", tx.unsigned(&claims()), "authentication_failed"),
        (
            "a forged signature",
            format!("{head}.AAAA"),
            "authentication_failed",
        ),
        (
            "an ID token",
            tx.sign_typed(Some("JWT"), &id_token),
            "invalid_request",
        ),
        (
            "a logout token",
            emulator.logout_token(Persona::Veteran, json!({})),
            "invalid_request",
        ),
        (
            "a JWE",
            "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d".to_owned(),
            "invalid_request",
        ),
    ];
    for (what, token, err) in cases {
        assert_eq!(post(token).await, (400, err.to_owned()), "{what}");
    }
    let (status, err) = post_as(&events, "application/json", signed.clone().into_bytes()).await;
    assert_eq!(
        (status, err.as_str()),
        (400, "invalid_request"),
        "the content type"
    );
    let (status, _) = post_as(&events, "application/secevent+jwt", vec![b'a'; 2 << 20]).await;
    assert!(matches!(status, 400 | 413), "a 2 MB body: {status}");

    // The transmitter rotates to a key it publishes first: accepted after one refetch.
    tx.rotate_unpublished().expect("a second key");
    tx.publish();
    let enabled = tx.claims(&risc_event("account-enabled"), subject.clone(), now());
    assert_eq!(
        post(tx.sign(&enabled)).await,
        (202, String::new()),
        "a rotated key"
    );
    // A key it never published: `invalid_key` (the JWKS was just refetched: not again).
    let unknown_kid = format!(
        "{}.{}.AAAA",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"secevent+jwt","kid":"never-published"}"#),
        URL_SAFE_NO_PAD.encode(claims().to_string()),
    );
    assert_eq!(
        post(unknown_kid).await,
        (400, "invalid_key".to_owned()),
        "an unknown kid"
    );

    // Signed in in a browser on A, and a device grant approved there.
    let person = Browser::new();
    let start = person.get(&a.url("/auth/login?return_to=/me")).await;
    let me = person.navigate(start, None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let tokens = device_tokens(&a.base, &person, &[]).await;
    assert_eq!(get_bearer(&b.url("/me"), &tokens.access).await.status, 200);

    // "Account disabled", received by B: accepted once, a replay accepted and not redone.
    let set = tx.sign(&claims());
    assert_eq!(post(set.clone()).await, (202, String::new()));
    assert_eq!(post(set).await, (202, String::new()), "a replayed jti");

    // The browser's session and the device's grant have ended, on both instances.
    let api = Browser::api_client();
    for cookie in person.cookies() {
        api.put_cookie(&cookie.name, &cookie.value, "/");
    }
    assert_eq!(api.get(&b.url("/me")).await.status, 401, "the session on B");
    // On A within a second (an instance reuses a session it read for up to 500 ms).
    let received = std::time::Instant::now();
    loop {
        let status = api.get(&a.url("/me")).await.status;
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            received.elapsed() < std::time::Duration::from_secs(1),
            "still signed in on A a second after the event"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_invalid_token(
        &get_bearer(&a.url("/me"), &tokens.access).await,
        "the grant on A",
    );
    assert_invalid_token(
        &get_bearer(&b.url("/me"), &tokens.access).await,
        "the grant on B",
    );
}
