use super::*;
use crate::config::IdmeBuilder;

fn native(redirect: &str) -> IdmeBuilder {
    IdmeBuilder::new()
        .client_id("cid")
        .redirect_uri(redirect)
        .token_auth(TokenAuthMethod::None)
}

fn err(b: IdmeBuilder) -> String {
    b.build_native().unwrap_err().to_string()
}

#[test]
fn public_native_client_builds_with_pkce_and_no_secret() {
    for uri in [
        "http://127.0.0.1/callback",
        "http://[::1]/callback",
        "http://127.0.0.1:8765/callback",
        "com.example.app:/oauth2redirect",
        "https://app.example/native/callback",
    ] {
        let c = native(uri)
            .build_native()
            .unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert!(c.pkce(), "{uri}");
        assert_eq!(c.token_auth(), TokenAuthMethod::None);
        assert_eq!(c.redirect_uri().as_str(), uri);
    }
}

#[test]
fn public_client_refuses_pkce_off_a_secret_and_the_web_build() {
    assert!(err(native("http://127.0.0.1/callback").pkce(false)).contains("PKCE"));
    assert!(err(native("http://127.0.0.1/callback").client_secret("s")).contains("no secret"));
    let web = native("http://127.0.0.1/callback").build().unwrap_err();
    assert!(web.to_string().contains("only native apps"), "{web}");
    let confidential_without_secret = IdmeBuilder::new()
        .client_id("cid")
        .redirect_uri("http://127.0.0.1/callback")
        .build_native()
        .unwrap_err();
    assert!(
        confidential_without_secret
            .to_string()
            .contains("IDME_TOKEN_AUTH=none"),
        "{confidential_without_secret}"
    );
}

#[test]
fn native_redirect_uris_outside_rfc_8252_are_refused() {
    for (uri, says) in [
        ("http://localhost/callback", "localhost"),
        ("http://app.example/callback", "off loopback"),
        ("myapp:/callback", "reverse domain"),
        ("javascript:/alert", "reverse domain"),
        ("com.example.app://host/cb", "no host"),
        ("com.example.app:cb", "one slash"),
        ("com..app:/cb", "reverse domain"),
    ] {
        let e = err(native(uri));
        assert!(e.contains(says), "{uri}: {e}");
    }
}

#[test]
fn the_web_build_keeps_refusing_private_use_schemes() {
    let e = IdmeBuilder::new()
        .client_id("cid")
        .client_secret("s")
        .redirect_uri("com.example.app:/oauth2redirect")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("use https"), "{e}");
}

#[test]
fn native_apps_use_the_code_flow_in_the_query() {
    let e = err(native("http://127.0.0.1/callback").response_mode(crate::ResponseMode::FormPost));
    assert!(e.contains("query"), "{e}");
}

#[test]
fn loopback_redirect_matches_any_port_and_nothing_else() {
    let reg = Url::parse("http://127.0.0.1/callback").unwrap();
    let ok = |s: &str| redirect_uri_matches(&reg, &Url::parse(s).unwrap());
    assert!(ok("http://127.0.0.1/callback"));
    assert!(ok("http://127.0.0.1:49152/callback"));
    assert!(!ok("http://127.0.0.1:49152/other"));
    assert!(!ok("http://127.0.0.2:49152/callback"));
    assert!(!ok("http://localhost:49152/callback"));
    assert!(!ok("https://127.0.0.1:49152/callback"));
    assert!(!ok("http://127.0.0.1:49152/callback?x=1"));
    assert!(!ok("http://u@127.0.0.1:49152/callback"));
    let v6 = Url::parse("http://[::1]/callback").unwrap();
    assert!(redirect_uri_matches(
        &v6,
        &Url::parse("http://[::1]:5000/callback").unwrap()
    ));
    // A registered port, or a non-loopback URI, is matched exactly.
    let fixed = Url::parse("http://127.0.0.1:8000/callback").unwrap();
    assert!(!redirect_uri_matches(
        &fixed,
        &Url::parse("http://127.0.0.1:8001/callback").unwrap()
    ));
    let https = Url::parse("https://app.example/cb").unwrap();
    assert!(!redirect_uri_matches(
        &https,
        &Url::parse("https://app.example:444/cb").unwrap()
    ));
}

#[test]
fn a_public_client_from_the_environment() {
    let vars = [
        ("IDME_CLIENT_ID", "cid"),
        ("IDME_REDIRECT_URI", "http://127.0.0.1/callback"),
        ("IDME_TOKEN_AUTH", "none"),
    ];
    let lookup = |k: &str| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    };
    let c = IdmeBuilder::from_lookup(lookup)
        .unwrap()
        .build_native()
        .unwrap();
    assert_eq!(c.token_auth(), TokenAuthMethod::None);
    assert!(c.pkce());
}
