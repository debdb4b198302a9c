//! Sign-in, refresh and logout through the loopback listener against the emulator, with
//! a scripted browser.

use super::common;

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use common::*;
use idme_native::{BrowserOpener, FileStore, NativeError, TokenStore as _};
use idme_testkit::Persona;

#[tokio::test]
async fn login_on_an_ephemeral_port_then_refresh_the_spent_token_then_logout() {
    let (emulator, idme) = setup(Persona::Veteran).await;
    let (opener, last_page) = scripted();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app").join("tokens.json");
    let client = client(&idme, opener).token_file(&file);

    let session = client.login().await.expect("signed in");
    let user = session.user();
    assert_eq!(user.given_name(), Some("Vera"));
    assert!(user.is_verified(idme_core::Group::Military));
    // The browser was answered with the "close this tab" page.
    // The browser reads the answer a moment after the listener wrote it.
    let mut page = None;
    for _ in 0..200 {
        page = last_page.lock().unwrap().clone();
        if page.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let page = page.expect("the browser got a page");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("You can close this tab"),
        "{}",
        page.body
    );
    // The listener was on a port of its own, and is closed.
    assert!(!listening(page.url.port().unwrap()).await);

    // Stored, only for the user.
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    assert_eq!(client.session().unwrap().sub(), session.sub());

    // The access token was spent on userinfo/attributes at sign-in (single-use at ID.me):
    // the emulator refuses it; a refresh brings a fresh one, which works once.
    let spent = session.access_token().unwrap().secret().to_owned();
    assert_eq!(userinfo(&emulator, &spent).await, 401);
    let renewed = client.refresh().await.expect("refreshed");
    let fresh = renewed.access_token().unwrap().secret().to_owned();
    assert_ne!(fresh, spent);
    assert_eq!(userinfo(&emulator, &fresh).await, 200);
    assert_eq!(
        client.session().unwrap().access_token().unwrap().secret(),
        fresh,
        "the renewed tokens are stored"
    );
    // Again, with the rotated refresh token.
    let again = client.refresh().await.expect("refreshed twice");
    assert_eq!(
        userinfo(&emulator, again.access_token().unwrap().secret()).await,
        200
    );

    let id_token = again
        .id_token()
        .expect("kept: the emulator has end_session")
        .secret()
        .to_owned();
    let logout_url = client.logout().await.unwrap().expect("a logout URL");
    assert!(logout_url.starts_with(&emulator.base_url()), "{logout_url}");
    // The URL is shown to the person: it carries no token (no id_token_hint).
    assert!(!logout_url.contains(&id_token), "{logout_url}");
    assert!(!logout_url.contains("id_token_hint"), "{logout_url}");
    assert!(!file.exists());
    assert!(matches!(client.session(), Err(NativeError::NotSignedIn)));
}

async fn userinfo(emulator: &idme_testkit::Emulator, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/api/public/v3/userinfo", emulator.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn no_token_or_secret_shows_in_debug_or_errors() {
    let (emulator, idme) = setup(Persona::Student).await;
    let (opener, _) = scripted();
    let client = client(&idme, opener);
    let session = client.login().await.expect("signed in");
    let shown = format!("{session:?} {:?} {client:?}", session.user());
    let secrets = emulator.issued_secrets();
    assert!(!secrets.is_empty());
    for secret in secrets {
        assert!(!shown.contains(&secret), "a token shows in {shown}");
    }
    assert!(!shown.contains(session.access_token().unwrap().secret()));
}

#[tokio::test]
async fn the_browser_command_receives_the_url_as_its_last_argument() {
    let (_emulator, idme) = setup(Persona::Teacher).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("url.txt");
    let script = dir.path().join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$2\" > {}.tmp && mv {0}.tmp {0}\n",
            out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    let opener = BrowserOpener::Command(format!("{} --new-window", script.display()));
    let client = client(&idme, opener);
    let login = tokio::spawn(async move { client.login().await });
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(&out) {
            break url;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The test plays the browser the command would have started.
    let callback = callback_url(&url).await;
    let page = idme_testkit::browser::Browser::new().get(&callback).await;
    assert_eq!(page.status, 200);
    let session = login.await.unwrap().expect("signed in");
    assert_eq!(session.user().given_name(), Some("Tess"));
}

#[tokio::test]
async fn the_file_store_writes_0600_and_refuses_a_file_others_can_read() {
    let (_emulator, idme) = setup(Persona::Veteran).await;
    let (opener, _) = scripted();
    let session = client(&idme, opener).login().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("t.json"));
    store.save(&session).unwrap();
    let mode = std::fs::metadata(store.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(store.load().unwrap().unwrap().sub(), session.sub());
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = store.load().unwrap_err();
    assert!(matches!(e, NativeError::Store(_)), "{e:?}");
    assert!(e.to_string().contains("other users can read it"), "{e}");
    let token = session.access_token().unwrap().secret().to_owned();
    assert!(!e.to_string().contains(&token));

    store.clear().unwrap();
    assert!(store.load().unwrap().is_none());
    store.clear().expect("clearing twice is fine");
}
