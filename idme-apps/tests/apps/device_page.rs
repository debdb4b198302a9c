//! The device confirmation against phishing (RFC 8628 §5.4): the page shows the user code
//! to compare with the device the person holds, names the client as the operator named
//! it, and says when and from which address the device asked; a prefilled code
//! (`verification_uri_complete`) still waits for the person's click.

use super::common;

use std::time::Duration;

use common::apps::*;
use idme_apps::{AppClients, AppServer};
use idme_testkit::Persona;
use idme_testkit::pair::Pair;

async fn named_rig() -> Pair {
    let clients = AppClients::parse("tv-app (Living room <TV>)").expect("parses");
    rig_with(Persona::Veteran, AppServer::new(clients), |b| b).await
}

/// A device's request for codes from `addr` (the adapter's peer address).
async fn device_code_from(pair: &Pair, addr: Option<&str>) -> serde_json::Value {
    let headers: Vec<(&str, &str)> = addr.map(|a| ("x-remote-addr", a)).into_iter().collect();
    let reply = call(
        pair,
        Route::DeviceCode,
        true,
        None,
        "client_id=tv-app",
        &headers,
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    json(&reply)
}

#[tokio::test]
async fn the_confirmation_shows_the_code_the_name_and_where_and_when_the_device_asked() {
    let pair = named_rig().await;
    let codes = device_code_from(&pair, Some("203.0.113.7")).await;
    let user_code = codes["user_code"].as_str().unwrap();
    pair.advance(Duration::from_secs(125));
    let mut browser = pair.sign_in().await;
    let confirm = page_for(&pair, &mut browser, user_code).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let body = &confirm.body;
    assert!(body.contains(user_code), "{body}");
    assert!(
        body.contains("matches"),
        "asks to compare the codes: {body}"
    );
    assert!(body.contains("Living room &lt;TV&gt;"), "{body}");
    assert!(!body.contains("<TV>"), "{body}");
    assert!(body.contains("203.0.113.7"), "{body}");
    assert!(body.contains("2 minutes ago"), "{body}");
    assert!(body.contains("UTC"), "{body}");

    // No address known: said so.
    let codes = device_code_from(&pair, None).await;
    let confirm = page_for(&pair, &mut browser, codes["user_code"].as_str().unwrap()).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("unknown"), "{}", confirm.body);
    assert!(confirm.body.contains("just now"), "{}", confirm.body);
}

#[tokio::test]
async fn a_prefilled_code_still_waits_for_the_persons_click() {
    let pair = named_rig().await;
    let codes = device_code_from(&pair, Some("2001:db8::1")).await;
    let complete = codes["verification_uri_complete"].as_str().unwrap();
    let query = complete.split_once('?').unwrap().1;
    let mut browser = pair.sign_in().await;
    let confirm = page(&pair, &mut browser, Some(query)).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("2001:db8::1"), "{}", confirm.body);
    assert!(confirm.body.contains("value=\"allow\""), "{}", confirm.body);
    // Seen, not decided: the device still waits.
    let dc = codes["device_code"].as_str().unwrap();
    assert_eq!(
        error(&poll(&pair, "tv-app", dc).await),
        (400, "authorization_pending".into())
    );
    // Seen twice, still not decided.
    let again = page(&pair, &mut browser, Some(query)).await;
    assert_eq!(again.status, 200, "{}", again.body);
    pair.advance(Duration::from_secs(5));
    assert_eq!(
        error(&poll(&pair, "tv-app", dc).await),
        (400, "authorization_pending".into())
    );
    // The click decides.
    let done = decide(&pair, &mut browser, &again, "allow").await;
    assert_eq!(done.status, 200, "{}", done.body);
    pair.advance(Duration::from_secs(5));
    assert_eq!(poll(&pair, "tv-app", dc).await.status, 200);
}
