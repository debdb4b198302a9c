//! Every way a native sign-in fails: a typed error, and the listener closed afterwards.

use super::common;

use std::time::Duration;

use common::*;
use idme_native::NativeError;
use idme_testkit::browser::Browser;
use idme_testkit::{Fault, Persona};

/// Sends `query` to the listener of the login whose authorization URL is `authorize_url`;
/// returns the status of the page the listener answered.
async fn deliver(authorize_url: &str, query: &str) -> u16 {
    let (redirect, _) = redirect_and_state(authorize_url);
    Browser::new()
        .get(&format!("{redirect}?{query}"))
        .await
        .status
}

#[tokio::test]
async fn cancelled_at_idme() {
    let (_emulator, idme) = setup(Persona::Veteran).await;
    let (opener, mut urls) = capturing();
    let client = client(&idme, opener);
    let login = tokio::spawn(async move { client.login().await });
    let url = urls.recv().await.unwrap();
    let (redirect, state) = redirect_and_state(&url);
    let status = deliver(&url, &format!("error=access_denied&state={state}")).await;
    assert_eq!(status, 400);
    let e = login.await.unwrap().unwrap_err();
    assert!(matches!(e, NativeError::Cancelled), "{e:?}");
    assert_eq!(e.to_string(), "sign-in cancelled at ID.me");
    assert!(!listening(port_of(&redirect)).await);
}

#[tokio::test]
async fn times_out_and_closes_the_listener() {
    let (_emulator, idme) = setup(Persona::Veteran).await;
    let (opener, mut urls) = capturing();
    let client = client(&idme, opener).timeout(Duration::from_millis(300));
    let login = tokio::spawn(async move { client.login().await });
    let url = urls.recv().await.unwrap();
    let (redirect, _) = redirect_and_state(&url);
    assert!(
        listening(port_of(&redirect)).await,
        "listening while waiting"
    );
    let e = login.await.unwrap().unwrap_err();
    assert!(
        matches!(e, NativeError::Timeout(d) if d == Duration::from_millis(300)),
        "{e:?}"
    );
    assert!(!listening(port_of(&redirect)).await);
}

#[tokio::test]
async fn a_taken_port_is_a_typed_error() {
    let (_emulator, idme) = setup(Persona::Veteran).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let (opener, _urls) = capturing();
    let e = client(&idme, opener).port(port).login().await.unwrap_err();
    assert!(matches!(e, NativeError::PortInUse(p) if p == port), "{e:?}");
    assert!(e.to_string().contains("already in use"), "{e}");
}

#[tokio::test]
async fn a_configured_free_port_is_used() {
    let (_emulator, idme) = setup(Persona::Veteran).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (opener, mut urls) = capturing();
    let client = client(&idme, opener).port(port);
    let login = tokio::spawn(async move { client.login().await });
    let url = urls.recv().await.unwrap();
    assert_eq!(port_of(&redirect_and_state(&url).0), port);
    let callback = callback_url(&url).await;
    assert_eq!(Browser::new().get(&callback).await.status, 200);
    login.await.unwrap().expect("signed in");
}

#[tokio::test]
async fn a_wrong_state_is_refused_and_the_real_redirect_still_signs_in() {
    let (emulator, idme) = setup(Persona::Veteran).await;
    let (opener, mut urls) = capturing();
    let client = client(&idme, opener);
    let login = tokio::spawn(async move { client.login().await });
    let url = urls.recv().await.unwrap();
    let callback = callback_url(&url).await;
    let (redirect, state) = redirect_and_state(&url);
    let forged = callback.replace(&state, "forged-state");
    assert_ne!(forged, callback);
    let recorded = idme.__used_logins().0;
    assert_eq!(Browser::new().get(&forged).await.status, 400);
    // Whoever reaches the loopback port cannot fill the single-use record with states.
    assert_eq!(
        idme.__used_logins().0,
        recorded,
        "a foreign state is not recorded"
    );
    // The code was not redeemed, and the listener still waits for the real redirect.
    assert_eq!(emulator.stats().token, 0);
    assert!(!login.is_finished());
    assert!(listening(port_of(&redirect)).await);
    assert_eq!(Browser::new().get(&callback).await.status, 200);
    login.await.unwrap().expect("signed in");
    assert!(!listening(port_of(&redirect)).await);
}

#[tokio::test]
async fn a_replayed_redirect_of_an_earlier_sign_in_is_refused() {
    let (_emulator, idme) = setup(Persona::Veteran).await;
    // A first sign-in, whose callback URL an attacker kept.
    let (opener, mut urls) = capturing();
    let first = client(&idme, opener.clone());
    let login = tokio::spawn(async move { first.login().await });
    let url = urls.recv().await.unwrap();
    let used = callback_url(&url).await;
    assert_eq!(Browser::new().get(&used).await.status, 200);
    login.await.unwrap().expect("first sign-in");

    // The second sign-in's listener receives the first one's response: refused, and the
    // wait goes on.
    let second = client(&idme, opener).timeout(Duration::from_secs(2));
    let login = tokio::spawn(async move { second.login().await });
    let url = urls.recv().await.unwrap();
    let (redirect, _) = redirect_and_state(&url);
    let query = url::Url::parse(&used).unwrap().query().unwrap().to_owned();
    assert_eq!(deliver(&url, &query).await, 400);
    assert!(!login.is_finished());
    let e = login.await.unwrap().unwrap_err();
    assert!(matches!(e, NativeError::Timeout(_)), "{e:?}");
    assert!(!listening(port_of(&redirect)).await);
}

#[tokio::test]
async fn stray_requests_do_not_end_the_wait() {
    let (_emulator, idme) = setup(Persona::Veteran).await;
    let (opener, mut urls) = capturing();
    let client = client(&idme, opener);
    let login = tokio::spawn(async move { client.login().await });
    let url = urls.recv().await.unwrap();
    let (redirect, _) = redirect_and_state(&url);
    let favicon = redirect.replace("/callback", "/favicon.ico");
    assert_eq!(Browser::new().get(&favicon).await.status, 404);
    let callback = callback_url(&url).await;
    assert_eq!(Browser::new().get(&callback).await.status, 200);
    login.await.unwrap().expect("signed in");
}

#[tokio::test]
async fn a_provider_refusal_is_a_core_error_without_secrets() {
    let (emulator, idme) = setup(Persona::Veteran).await;
    emulator.set_faults([Fault::BadSignature]);
    let (opener, _) = scripted();
    let e = client(&idme, opener).login().await.unwrap_err();
    assert!(matches!(e, NativeError::Core(_)), "{e:?}");
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("bad signature"), "{shown}");
    for secret in emulator.issued_secrets() {
        assert!(!shown.contains(&secret));
    }
}

#[tokio::test]
async fn refresh_and_session_without_a_sign_in() {
    let (_emulator, idme) = setup(Persona::Veteran).await;
    let (opener, _) = capturing();
    let client = client(&idme, opener);
    assert!(matches!(client.session(), Err(NativeError::NotSignedIn)));
    assert!(matches!(
        client.refresh().await,
        Err(NativeError::NotSignedIn)
    ));
    assert_eq!(NativeError::NotSignedIn.to_string(), "not signed in");
}
