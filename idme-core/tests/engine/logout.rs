//! Logout in memory: it ends the session, sends the browser to the provider's logout
//! with the ID token as `id_token_hint` when the provider has one (else home), and is
//! refused without a same-origin signal.

use idme_testkit::pair::Pair;
use idme_testkit::{EmulatorConfig, Persona};

#[tokio::test]
async fn without_an_end_session_endpoint_logout_stays_in_the_app() {
    // ID.me's discovery names no end_session_endpoint; nor does the emulator's by default.
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    let reply = pair.logout(&mut browser).await;
    assert_eq!(reply.status, 303);
    let to = reply.header("location").unwrap();
    assert!(!to.starts_with(&pair.emulator.base_url()), "{to}");
    assert!(!to.contains("id_token_hint"), "{to}");
    assert!(browser.names().iter().all(|n| !n.contains("idme_session")));
    assert!(pair.authenticate(&mut browser).await.is_err());
}

#[tokio::test]
async fn logout_ends_the_session_and_visits_the_provider() {
    let emulator = EmulatorConfig {
        auto_user: Some(Persona::Veteran),
        end_session_endpoint: true,
        ..EmulatorConfig::default()
    };
    let pair = Pair::with_emulator(emulator, |b| b).await.unwrap();
    let mut browser = pair.sign_in().await;
    let reply = pair.logout(&mut browser).await;
    assert_eq!(reply.status, 303);
    let to = url::Url::parse(reply.header("location").unwrap()).unwrap();
    // RP-initiated logout carries the ID token as `id_token_hint` (this emulator names an
    // end_session_endpoint), and it is the signed token the provider issued.
    let hint = to
        .query_pairs()
        .find(|(k, _)| k == "id_token_hint")
        .map(|(_, v)| v.into_owned())
        .expect("id_token_hint");
    assert_eq!(hint.split('.').count(), 3, "{hint}");
    assert!(to.as_str().starts_with(&pair.emulator.base_url()), "{to}");
    assert!(browser.names().iter().all(|n| !n.contains("idme_session")));
    let back = pair.provider_get(to.as_str()).await;
    assert_eq!(back.location.as_deref(), Some("https://app.example/"));
    assert_eq!(pair.emulator.stats().logout, 1);
    assert!(pair.authenticate(&mut browser).await.is_err());
}

#[tokio::test]
async fn cross_site_logout_is_refused() {
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    let reply = pair
        .idme
        .logout(&browser.cookies(), Some("https://evil.example"), None)
        .await;
    assert_eq!(reply.status, 403);
    assert!(reply.set_cookies.is_empty(), "the session is kept");
    assert!(pair.authenticate(&mut browser).await.is_ok());
}

#[tokio::test]
async fn logout_without_a_same_origin_signal_is_refused() {
    let pair = Pair::new(|b| b).await;
    let mut browser = pair.sign_in().await;
    let app = pair.origin();
    for (origin, site) in [
        (None, None),
        (None, Some("cross-site")),
        (None, Some("same-site")),
        (Some("null"), None),
        (Some(app.as_str()), Some("cross-site")),
    ] {
        let reply = pair.idme.logout(&browser.cookies(), origin, site).await;
        assert_eq!(
            reply.status, 403,
            "logout with {origin:?} {site:?}: {}",
            reply.body
        );
        assert!(
            reply
                .set_cookies
                .iter()
                .all(|c| !c.name.contains("idme_session")),
            "{origin:?} {site:?}"
        );
    }
    assert!(
        pair.authenticate(&mut browser).await.is_ok(),
        "still signed in"
    );
}

#[tokio::test]
async fn logout_with_sec_fetch_site_same_origin_is_accepted() {
    for site in ["same-origin", "none"] {
        let pair = Pair::new(|b| b).await;
        let browser = pair.sign_in().await;
        let reply = pair.idme.logout(&browser.cookies(), None, Some(site)).await;
        assert_eq!(reply.status, 303, "{site}: {}", reply.body);
        assert!(
            reply
                .set_cookies
                .iter()
                .any(|c| c.name.contains("idme_session") && c.max_age == 0),
            "{site}: the session cookie is deleted"
        );
    }
}
