//! App clients checked at startup: `IDME_APP_CLIENTS`' display names and consent mark,
//! redirect URIs (RFC 8252 §7, RFC 9700 §2.1) and bounded lifetimes.

use std::time::Duration;

use idme_apps::{AppClients, AppServer};
use idme_core::{EngineBuilder, Idme, IdmeBuilder};

/// An engine's builder with the app clients of `IDME_APP_CLIENTS=list` registered.
fn builder(list: &str) -> EngineBuilder {
    let clients = AppClients::parse(list).expect("the list parses");
    with(clients)
}

/// An engine's builder with `clients` registered.
fn with(clients: AppClients) -> EngineBuilder {
    let config = IdmeBuilder::new()
        .client_id("web")
        .client_secret("secret")
        .redirect_uri("https://app.example/auth/callback")
        .build()
        .expect("a valid configuration");
    Idme::builder(config).extension(AppServer::new(clients))
}

/// The error of `IDME_APP_CLIENTS=list`: the parse's, or the engine's build.
fn refused(list: &str) -> String {
    match AppClients::parse(list) {
        Err(e) => e.to_string(),
        Ok(clients) => match with(clients).build() {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{list:?} was accepted"),
        },
    }
}

#[test]
fn display_names_and_the_consent_mark_come_from_idme_app_clients() {
    let list = "tv (Living room TV), phone (Example Phone: notes = fun)=com.example.app:/cb http://127.0.0.1/callback, \
         site (Example Site) [skip-consent]=https://native.example/cb, old=http://[::1]/cb, plain";
    builder(list).build().expect("builds");
    let clients = &AppClients::parse(list).expect("parses");
    let tv = clients.get("tv").unwrap();
    assert_eq!(tv.display_name_or_id(), "Living room TV");
    assert!(tv.redirect_uris().is_empty());
    let phone = clients.get("phone").unwrap();
    assert_eq!(phone.display_name_or_id(), "Example Phone: notes = fun");
    assert_eq!(
        phone.redirect_uris(),
        ["com.example.app:/cb", "http://127.0.0.1/callback"]
    );
    assert!(!phone.consent_skipped());
    let site = clients.get("site").unwrap();
    assert!(site.consent_skipped());
    assert_eq!(site.redirect_uris(), ["https://native.example/cb"]);
    // The old syntax means what it meant.
    assert_eq!(
        clients.get("old").unwrap().redirect_uris(),
        ["http://[::1]/cb"]
    );
    assert!(!clients.get("plain").unwrap().has_display_name());
    assert!(tv.has_display_name());
    assert_eq!(clients.get("plain").unwrap().display_name_or_id(), "plain");
}

#[test]
fn bad_redirect_uris_stop_the_build() {
    for bad in [
        "a=javascript:alert(1)",
        "a=JavaScript:alert(1)",
        "a=data:text/html,hi",
        "a=file:///etc/passwd",
        "a=blob:https://a.example/x",
        "a=vbscript:msgbox",
        "a=about:blank",
        "a=ftp://a.example/cb",
        "a=ws://127.0.0.1/cb",
        "a=wss://a.example/cb",
        "a=mailto:x@a.example",
        // Private-use schemes are reverse domain names (RFC 8252 §7.1).
        "a=myapp:/cb",
        // Plain http only for loopback IP literals, without a port (any port is taken).
        "a=http://localhost/cb",
        "a=http://example.com/cb",
        "a=http://10.0.0.1/cb",
        "a=http://127.0.0.1:8080/cb",
        // No fragment, no user info.
        "a=https://a.example/cb#f",
        "a=https://user@a.example/cb",
        "a=http://user:pw@127.0.0.1/cb",
        "a=com.example.app:/cb#f",
        "a=not a uri",
    ] {
        let e = refused(bad);
        assert!(e.contains("app client"), "{bad}: {e}");
    }
    for good in [
        "a=http://127.0.0.1/callback",
        "a=http://[::1]/cb",
        "a=com.example.app:/callback",
        "a=https://native.example/cb",
    ] {
        builder(good)
            .build()
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

#[test]
fn bad_display_names_and_syntax_stop_the_build() {
    let long = format!("a ({})", "x".repeat(65));
    for bad in [
        "a ()",
        "a (   )",
        "a (unclosed",
        "a (name) junk",
        "a [bogus]",
        "a [skip-consent",
        "a (one) (two)",
        long.as_str(),
        "a (tab\there)",
    ] {
        let e = refused(bad);
        assert!(e.contains("app client"), "{bad}: {e}");
    }
}

#[test]
fn lifetimes_are_bounded_above() {
    let day = 24 * 3600;
    for (what, clients) in [
        (
            "device code",
            AppClients::new(["tv"]).device_code_lifetime(Duration::from_secs(30 * 60 + 1)),
        ),
        (
            "poll interval",
            AppClients::new(["tv"]).poll_interval(Duration::from_secs(61)),
        ),
        (
            "access token",
            AppClients::new(["tv"]).access_token_lifetime(Duration::from_secs(day + 1)),
        ),
        (
            "refresh",
            AppClients::new(["tv"]).refresh_lifetime(Duration::from_secs(366 * day)),
        ),
        (
            "refresh",
            AppClients::new(["tv"]).refresh_lifetime(Duration::MAX),
        ),
        (
            "device code",
            AppClients::new(["tv"]).device_code_lifetime(Duration::from_secs(u64::MAX)),
        ),
    ] {
        let e = with(clients).build().unwrap_err();
        assert!(e.to_string().contains("app clients"), "{what}: {e}");
    }
    let at_most = AppClients::new(["tv"])
        .device_code_lifetime(Duration::from_secs(30 * 60))
        .poll_interval(Duration::from_secs(60))
        .access_token_lifetime(Duration::from_secs(day))
        .refresh_lifetime(Duration::from_secs(365 * day));
    with(at_most).build().expect("the maxima");
}
