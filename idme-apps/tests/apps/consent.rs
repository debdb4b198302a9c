//! Consent for the code + PKCE relay (RFC 8252 §8.6, RFC 6749 §10.2): a signed-in
//! person's `GET /auth/authorize` shows who asks for what and where the person goes back
//! to, and no code leaves before they allow it in a same-origin form with this session's
//! token for this very request. Loopback redirects only where registered (RFC 8252 §7.3).

use super::common;

use common::apps::*;
use idme_apps::{AppClients, AppServer};
use idme_core::Reply;
use idme_testkit::Persona;
use idme_testkit::pair::{Browser, Pair};

const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc";
const LOOPBACK: &str = "http://127.0.0.1:51234/callback";
/// The clients of these tests, in `IDME_APP_CLIENTS` syntax: display names (one with
/// HTML in it), a registered loopback redirect, an https-only client that skips consent,
/// a device-only client.
const CLIENTS: &str = "native-app (Example <Notes> & Co)=http://127.0.0.1/callback com.example.app:/callback, \
                       tv-app (Living room TV), \
                       web-app (Example Web) [skip-consent]=https://native.example/cb, \
                       bare";

async fn consent_rig() -> Pair {
    let clients = AppClients::parse(CLIENTS).expect("the clients parse");
    rig_with(Persona::Veteran, AppServer::new(clients), |b| b).await
}

fn request(client: &str, redirect: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", redirect),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "st4te"),
    ];
    pairs.extend_from_slice(extra);
    form(&pairs)
}

/// The person's `POST /auth/authorize` of `fields` with `headers`.
async fn post_decision(
    pair: &Pair,
    browser: &mut Browser,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Reply {
    call(
        pair,
        Route::Authorize,
        true,
        None,
        &form(fields),
        headers,
        Some(browser),
    )
    .await
}

fn param(reply: &Reply, name: &str) -> Option<String> {
    let to = url::Url::parse(&location(reply)).ok()?;
    to.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn assert_consent_page(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.header("location").is_none(), "no redirect, no code");
    assert!(!reply.body.contains("code="), "{}", reply.body);
    let csp = reply.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!reply.body.contains("<script"), "{}", reply.body);
    assert!(
        reply
            .body
            .contains("method=\"post\" action=\"/auth/authorize\"")
    );
    assert!(reply.body.contains("name=\"decision\" value=\"allow\""));
    assert!(reply.body.contains("name=\"decision\" value=\"deny\""));
}

#[tokio::test]
async fn a_signed_in_persons_authorize_shows_the_consent_page_and_no_code() {
    let pair = consent_rig().await;
    let mut browser = pair.sign_in().await;
    let q = request("native-app", LOOPBACK, &[("scope", "openid military")]);
    let page = authorize(&pair, &mut browser, &q).await;
    assert_consent_page(&page);
    // The operator's name for the client, escaped; never the raw HTML.
    assert!(
        page.body.contains("Example &lt;Notes&gt; &amp; Co"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<Notes>"));
    // What it asks for, in words, and where the person goes back to.
    assert!(page.body.contains("military"), "{}", page.body);
    assert!(page.body.contains("act as you"), "{}", page.body);
    assert!(page.body.contains("7 days"), "{}", page.body);
    assert!(page.body.contains("127.0.0.1:51234"), "{}", page.body);
    // The form may send the person to the app after the decision (CSP form-action).
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:51234"),
        "{csp}"
    );

    let page = authorize(
        &pair,
        &mut browser,
        &request("native-app", "com.example.app:/callback", &[]),
    )
    .await;
    assert_consent_page(&page);
    assert!(page.body.contains("com.example.app"), "{}", page.body);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("form-action 'self' com.example.app:"), "{csp}");
}

#[tokio::test]
async fn allow_gives_the_code_and_deny_tells_the_app_access_denied() {
    let pair = consent_rig().await;
    let mut browser = pair.sign_in().await;
    let q = request("native-app", LOOPBACK, &[]);
    let page = authorize(&pair, &mut browser, &q).await;
    let allowed = consent(&pair, &mut browser, &page, "allow").await;
    assert_eq!(allowed.status, 303, "{}", allowed.body);
    assert!(location(&allowed).starts_with(&format!("{LOOPBACK}?")));
    assert_eq!(param(&allowed, "state").as_deref(), Some("st4te"));
    assert_eq!(
        param(&allowed, "iss").as_deref(),
        Some("https://app.example")
    );
    let code = param(&allowed, "code").expect("a code");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", LOOPBACK),
        ("client_id", "native-app"),
        ("code_verifier", VERIFIER),
    ]);
    let tokens = post(&pair, Route::Token, &body).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);

    let page = authorize(&pair, &mut browser, &q).await;
    let denied = consent(&pair, &mut browser, &page, "deny").await;
    assert_eq!(denied.status, 303, "{}", denied.body);
    assert!(location(&denied).starts_with(&format!("{LOOPBACK}?")));
    assert_eq!(param(&denied, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&denied, "state").as_deref(), Some("st4te"));
    assert_eq!(
        param(&denied, "iss").as_deref(),
        Some("https://app.example")
    );
    assert!(param(&denied, "code").is_none());
}

#[tokio::test]
async fn the_decision_needs_this_sessions_token_for_this_request_from_this_site() {
    let pair = consent_rig().await;
    let mut browser = pair.sign_in().await;
    let page = authorize(&pair, &mut browser, &request("native-app", LOOPBACK, &[])).await;
    assert_consent_page(&page);
    let req = field(&page.body, "request").unwrap();
    let csrf = field(&page.body, "csrf").unwrap();
    let same = [("sec-fetch-site", "same-origin")];
    let refused = |r: &Reply, what: &str| {
        assert_eq!(r.status, 403, "{what}: {}", r.body);
        assert!(r.header("location").is_none(), "{what}: no redirect");
    };
    let no_token = [("request", req.as_str()), ("decision", "allow")];
    let forged = [
        ("request", req.as_str()),
        ("csrf", "forged"),
        ("decision", "allow"),
    ];
    let no_decision = [("request", req.as_str()), ("csrf", csrf.as_str())];
    for (what, f) in [
        ("no token", &no_token[..]),
        ("a forged token", &forged[..]),
        ("no decision", &no_decision[..]),
    ] {
        refused(&post_decision(&pair, &mut browser, f, &same).await, what);
    }
    // The token of another session (the same person in another browser).
    let mut other = pair.sign_in().await;
    let f = [
        ("request", req.as_str()),
        ("csrf", &csrf),
        ("decision", "allow"),
    ];
    refused(
        &post_decision(&pair, &mut other, &f, &same).await,
        "another session",
    );
    // The token of this request for another one: another port, challenge, state, scope.
    for changed in [
        request("native-app", "http://127.0.0.1:51235/callback", &[]),
        request("native-app", LOOPBACK, &[("scope", "military")]),
        req.replace("st4te", "other"),
        req.replace(CHALLENGE, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
    ] {
        let f = [
            ("request", changed.as_str()),
            ("csrf", &csrf),
            ("decision", "allow"),
        ];
        refused(
            &post_decision(&pair, &mut browser, &f, &same).await,
            &changed,
        );
    }
    // Cross-site, or no same-origin signal at all, whatever the token.
    let origin = pair.origin();
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![],
    ] {
        let r = post_decision(&pair, &mut browser, &f, &headers).await;
        refused(&r, &format!("{headers:?}"));
    }
    // The app's origin is a same-origin signal too.
    let r = post_decision(&pair, &mut browser, &f, &[("origin", origin.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(param(&r, "code").is_some());
}

#[tokio::test]
async fn a_client_marked_to_skip_consent_gets_its_code_at_once() {
    let pair = consent_rig().await;
    let mut browser = pair.sign_in().await;
    let reply = authorize(
        &pair,
        &mut browser,
        &request("web-app", "https://native.example/cb", &[]),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(param(&reply, "code").is_some(), "{}", location(&reply));
    // The mark cannot stand on a client that may use loopback or a private-use scheme.
    for bad in [
        "a [skip-consent]=http://127.0.0.1/cb",
        "a [skip-consent]=com.example.app:/cb",
        "a [skip-consent]=https://native.example/cb com.example.app:/cb",
        "a [skip-consent]",
    ] {
        let clients = AppClients::parse(bad).expect("parses");
        let config = idme_core::IdmeBuilder::new()
            .client_id("web")
            .client_secret("secret")
            .redirect_uri("https://app.example/auth/callback")
            .build()
            .expect("a valid configuration");
        let e = idme_core::Idme::builder(config)
            .extension(AppServer::new(clients))
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("consent"), "{bad}: {e}");
    }
}

#[tokio::test]
async fn loopback_only_where_registered_the_port_varies_path_and_address_do_not() {
    let pair = consent_rig().await;
    let mut browser = pair.sign_in().await;
    for ok in [
        LOOPBACK,
        "http://127.0.0.1/callback",
        "http://127.0.0.1:1/callback",
    ] {
        let page = authorize(&pair, &mut browser, &request("native-app", ok, &[])).await;
        assert_consent_page(&page);
    }
    for (client, bad) in [
        ("native-app", "http://127.0.0.1:51234/other"),
        ("native-app", "http://127.0.0.1:51234/callback?x=1"),
        ("native-app", "http://127.0.0.1:51234/callback/"),
        ("native-app", "http://[::1]:51234/callback"),
        ("native-app", "http://127.0.0.2:51234/callback"),
        ("native-app", "http://localhost:51234/callback"),
        ("native-app", "https://127.0.0.1:51234/callback"),
        // No redirect URI registered: no redirect at all.
        ("tv-app", LOOPBACK),
        ("bare", LOOPBACK),
        ("bare", "http://[::1]:51234/callback"),
    ] {
        let reply = authorize(&pair, &mut browser, &request(client, bad, &[])).await;
        assert_eq!(reply.status, 400, "{client} {bad}: {}", reply.body);
        assert!(reply.header("location").is_none(), "{client} {bad}");
        // Not even after an error the app could otherwise hear of.
        let reply = authorize(
            &pair,
            &mut browser,
            &request(client, bad, &[("scope", "wizard")]),
        )
        .await;
        assert!(reply.header("location").is_none(), "{client} {bad}");
    }
}

#[tokio::test]
async fn a_client_without_a_display_name_is_shown_by_its_id_marked_as_such() {
    let pair = rig().await;
    let mut browser = pair.sign_in().await;
    let page = authorize(
        &pair,
        &mut browser,
        &request(NATIVE, "com.example.app:/callback", &[]),
    )
    .await;
    assert_consent_page(&page);
    assert!(page.body.contains(NATIVE), "{}", page.body);
    assert!(page.body.contains("has not named"), "{}", page.body);
}
