//! The single-page app's backend, against each example app as a real process: the static
//! page and script with their CSP, `GET /auth/session`, and `POST /api/action` behind
//! `IdmeUser` and the cross-site guard (200 same-origin or bearer, 403 cross-site, 401
//! signed out). The page itself runs in Chromium in `e2e/tests/chromium/spa.rs`.

use idme_testkit::Persona;
use idme_testkit::browser::Browser;

use crate::apps::device_tokens;
use crate::process::Target;
use crate::scenarios::sign_in;

/// `/spa`, `/spa/app.js`, `/auth/session` and `/api/action` as the contract says.
pub async fn spa_backend_routes(package: &str) {
    let target = Target::start(package, &[]).await;
    let header = |page: &idme_testkit::browser::Page, name: &str| {
        page.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };

    // The static page: a strict CSP, and its only script is the separate file.
    let page = Browser::new().get(&target.url("/spa")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let csp = header(&page, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let scripts: Vec<&str> = page.body.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 1, "{}", page.body);
    assert!(
        scripts[0].trim_start().starts_with("src=\"/spa/app.js\""),
        "no inline script"
    );
    let script = Browser::new().get(&target.url("/spa/app.js")).await;
    assert_eq!(script.status, 200);
    assert!(header(&script, "content-type").starts_with("text/javascript"));
    assert!(script.body.contains("/auth/session"));

    // Signed out: the session route says so (never a redirect); the action is 401.
    let browser = Browser::new();
    let session = browser.get(&target.url("/auth/session")).await;
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(session.json()["signed_in"], false);
    let action = target.url("/api/action");
    // The SPA's `fetch`: 401 JSON, never a redirect to sign in.
    let fetch = [("Sec-Fetch-Mode", "cors"), ("Accept", "application/json")];
    let res = browser.post_form_with(&action, &[], &fetch).await;
    assert_eq!(res.status, 401, "signed out: {}", res.body);
    assert_eq!(res.json()["error"], "unauthenticated");

    // Signed in through a full-page navigation that comes back to the SPA.
    let back = sign_in(&browser, &target, "/spa").await;
    assert_eq!(
        (back.status, back.url.path()),
        (200, "/spa"),
        "{}",
        back.body
    );
    let session = browser.get(&target.url("/auth/session")).await.json();
    assert_eq!(session["signed_in"], true, "{session}");
    assert_eq!(session["user"]["sub"], Persona::Veteran.sub());

    // Same-origin: done. Cross-site, a foreign origin or no signal: refused.
    let res = browser.post_form(&action, &[]).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["sub"], Persona::Veteran.sub());
    for headers in [
        &[("Origin", "https://evil.example")][..],
        &[("Sec-Fetch-Site", "cross-site")],
        &[("Sec-Fetch-Site", "same-site")],
    ] {
        let res = browser.post_form_with(&action, &[], headers).await;
        assert_eq!(res.status, 403, "{headers:?}: {}", res.body);
    }
    let res = browser.post_form_bare(&action, &[], &[]).await;
    assert_eq!(res.status, 403, "no signal: {}", res.body);
    let session = browser.get(&target.url("/auth/session")).await.json();
    assert_eq!(
        session["signed_in"], true,
        "the session is untouched: {session}"
    );

    // An app client's bearer token carries no ambient authority: no signal needed.
    let tokens = device_tokens(&target.app.base, &browser, &[]).await;
    let bearer = format!("Bearer {}", tokens.access);
    let res = Browser::api_client()
        .post_form_bare(&action, &[], &[("Authorization", &bearer)])
        .await;
    assert_eq!(res.status, 200, "bearer: {}", res.body);
    assert_eq!(res.json()["sub"], Persona::Veteran.sub());
}
