//! The emulator as a security-event transmitter: SETs signed with its events key (never
//! its OpenID key), delivered by push with ID.me's retries, and the developer's page.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode as AxumStatus;
use idme_testkit::{Emulator, EmulatorConfig, EventsReceiver, Persona, risc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::common::{self, http};

/// A receiver answering `fail_first` requests with 500, then 202; counts requests and
/// keeps the last body and content type.
async fn receiver(
    fail_first: usize,
) -> (
    String,
    Arc<AtomicUsize>,
    Arc<std::sync::Mutex<Vec<(String, String)>>>,
) {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (h, s) = (Arc::clone(&hits), Arc::clone(&seen));
    let app = axum::Router::new().route(
        "/auth/events",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (h, s) = (Arc::clone(&h), Arc::clone(&s));
            async move {
                let n = h.fetch_add(1, Ordering::SeqCst);
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                s.lock().unwrap().push((ct, body));
                if n < fail_first {
                    AxumStatus::INTERNAL_SERVER_ERROR
                } else {
                    AxumStatus::ACCEPTED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/auth/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hits, seen)
}

/// Verifies a SET against the emulator's events JWKS and returns its claims.
async fn verify_set(idme: &Emulator, set: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(set).expect("jose header");
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    let kid = header.kid.expect("kid");
    let jwks: Value = http()
        .get(idme.events_jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let openid_jwks = common::jwks(idme).await;
    assert!(
        !openid_jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str()),
        "security events are signed with a key of their own"
    );
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid published");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[idme.events_issuer()]);
    validation.set_required_spec_claims(&["iss", "aud"]);
    jsonwebtoken::decode::<Value>(set, &key, &validation)
        .expect("a valid SET")
        .claims
}

#[tokio::test]
async fn a_security_event_is_pushed_signed_with_the_events_key_and_names_the_person() {
    let (url, hits, seen) = receiver(0).await;
    let idme = common::start(EmulatorConfig {
        events_receiver: Some(EventsReceiver {
            url,
            audience: "app-aud".into(),
        }),
        ..Default::default()
    })
    .await;
    let sent = idme
        .send_security_event(risc::ACCOUNT_DISABLED, Persona::Veteran)
        .await
        .unwrap();
    assert!(sent.delivered());
    assert_eq!(sent.statuses, vec![Some(202)]);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let (content_type, set) = seen.lock().unwrap().pop().unwrap();
    assert_eq!(content_type, "application/secevent+jwt");
    let claims = verify_set(&idme, &set, "app-aud").await;
    assert_eq!(idme.events_issuer(), "https://events.id.me");
    assert_eq!(claims["jti"], sent.jti.as_str());
    let subject = json!({"format": "iss_sub", "iss": idme.issuer(), "sub": Persona::Veteran.sub()});
    assert_eq!(claims["sub_id"], subject);
    assert_eq!(claims["events"][risc::ACCOUNT_DISABLED]["subject"], subject);
    assert!(claims["iat"].is_u64());
    assert_eq!(idme.sent_security_events(), vec![sent]);
}

#[tokio::test]
async fn delivery_is_retried_three_times_and_then_given_up() {
    let (url, hits, _) = receiver(2).await;
    let idme = common::start(EmulatorConfig::default()).await;
    let err = idme
        .send_security_event(risc::ACCOUNT_PURGED, Persona::Student)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        std::io::ErrorKind::InvalidInput,
        "no receiver set yet"
    );
    idme.set_events_receiver(Some(EventsReceiver {
        url,
        audience: "a".into(),
    }));
    let sent = idme
        .send_security_event(risc::ACCOUNT_PURGED, Persona::Student)
        .await
        .unwrap();
    assert_eq!(sent.statuses, vec![Some(500), Some(500), Some(202)]);
    assert!(sent.delivered());

    let (url, hits_down, _) = receiver(usize::MAX).await;
    idme.set_events_receiver(Some(EventsReceiver {
        url,
        audience: "a".into(),
    }));
    let sent = idme
        .send_security_event(risc::ACCOUNT_PURGED, Persona::Student)
        .await
        .unwrap();
    assert_eq!(sent.attempts(), 1 + idme_testkit::RETRIES);
    assert!(!sent.delivered());
    assert_eq!(hits_down.load(Ordering::SeqCst), 4);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn the_events_key_rotates_and_the_old_one_stays_published() {
    let idme = common::start(EmulatorConfig::default()).await;
    let before = idme
        .security_event_token(risc::SESSIONS_REVOKED, Persona::Teacher, "a", Value::Null)
        .await
        .unwrap();
    idme.rotate_events_key().await.unwrap();
    let after = idme
        .security_event_token(
            risc::SESSIONS_REVOKED,
            Persona::Teacher,
            "a",
            json!({"txn": "t-1"}),
        )
        .await
        .unwrap();
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_ne!(kid(&before), kid(&after));
    verify_set(&idme, &before, "a").await;
    assert_eq!(verify_set(&idme, &after, "a").await["txn"], "t-1");
}

#[tokio::test]
async fn the_page_sends_an_event_for_the_persona_and_refuses_other_sites() {
    let (url, hits, _) = receiver(0).await;
    let idme = common::start(EmulatorConfig {
        events_receiver: Some(EventsReceiver {
            url,
            audience: "a".into(),
        }),
        ..Default::default()
    })
    .await;
    let page_url = format!("{}/testkit/events", idme.base_url());
    let page = http()
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"veteran-account-disabled\""), "{page}");
    let form = [("persona", "veteran"), ("event", risc::ACCOUNT_DISABLED)];
    let cross = http()
        .post(&page_url)
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    let sent = http()
        .post(&page_url)
        .header("origin", idme.base_url())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert!(
        sent.text()
            .await
            .unwrap()
            .contains("the application accepted it")
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(idme.sent_security_events()[0].sub, Persona::Veteran.sub());
}
