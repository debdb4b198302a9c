//! The device authorization grant (RFC 8628) of an example app, from the outside: the
//! `oauth2` crate on the device's side, the person's side scripted with a cookie jar
//! through the emulator's login. Each scenario is a function of the example package;
//! [`device_tests!`](crate::device_tests) runs them all against one example.

use std::time::{Duration, Instant};

use idme_testkit::Persona;
use idme_testkit::browser::Browser;
use oauth2::TokenResponse as _;

use crate::apps::{
    DEVICE_CLIENT, DEVICE_CLIENT_NAME, DEVICE_GRANT, OAuthHttp, assert_not_logged,
    confirmation_page, decision_form, device_client, device_code, get_bearer, person_decides, poll,
    post,
};
use crate::process::Target;
use crate::scenarios::sign_in;

/// RFC 8628 §6.1's base-20 alphabet of user codes.
const USER_CODE_ALPHABET: &str = "BCDFGHJKLMNPQRSTVWXZ";

/// The example signing in `veteran`, with nothing said about app clients: the examples
/// register their device client ([`DEVICE_CLIENT`]) by default.
pub async fn start(package: &str) -> Target {
    Target::start(package, &[]).await
}

/// A device code asked with a raw form: `(device_code, user_code, verification_uri_complete)`.
async fn raw_device_code(base: &str) -> (String, String, String) {
    let answer = post(
        &format!("{base}/auth/device/code"),
        &[("client_id", DEVICE_CLIENT)],
        &[],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let json = answer.json();
    let field = |k: &str| json[k].as_str().unwrap_or_default().to_owned();
    (
        field("device_code"),
        field("user_code"),
        field("verification_uri_complete"),
    )
}

/// The `oauth2` crate's device flow, its poller running while the person signs in with
/// ID.me and allows: the tokens work as the person on `/me` and `/verified/military`, with
/// the very JSON the person's session cookie gets.
pub async fn standard_client_completes_the_device_flow(package: &str) {
    let target = start(package).await;
    let base = target.app.base.clone();
    let details = device_code(&base, &["military"]).await;
    let code = details.user_code().secret().clone();
    let ok_code = code.len() == 9
        && code.as_bytes()[4] == b'-'
        && code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| USER_CODE_ALPHABET.contains(c));
    assert!(ok_code, "XXXX-XXXX of the base-20 alphabet: {code}");
    assert_eq!(
        details.verification_uri().as_str(),
        format!("{base}/auth/device")
    );
    let complete = details
        .verification_uri_complete()
        .expect("verification_uri_complete")
        .secret()
        .clone();
    assert_eq!(complete, format!("{base}/auth/device?user_code={code}"));
    assert_eq!(details.expires_in(), Duration::from_secs(600));
    assert_eq!(details.interval(), Duration::from_secs(5));
    assert!(
        details.device_code().secret().len() >= 43,
        "≥ 32 random bytes"
    );

    let device_secret = details.device_code().secret().clone();
    let client = device_client(&base, DEVICE_CLIENT);
    let started = Instant::now();
    let polling = tokio::spawn(async move {
        let http = OAuthHttp::default();
        client
            .exchange_device_access_token(&details)
            .request_async(&http, tokio::time::sleep, Some(Duration::from_secs(60)))
            .await
    });
    let person = Browser::new();
    let done = person_decides(&person, &base, &complete, "allow").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Device connected"), "{}", done.body);
    let token = polling
        .await
        .expect("the poller ran")
        .unwrap_or_else(|e| panic!("the device gets its tokens: {e:?}"));
    eprintln!("device flow polled to the end in {:?}", started.elapsed());
    assert_eq!(token.token_type().as_ref(), "bearer");
    assert_eq!(token.expires_in(), Some(Duration::from_secs(600)));
    assert!(token.refresh_token().is_some(), "a refresh token");
    let scopes: Vec<String> = token
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(scopes, ["military"], "the granted policy");

    let access = token.access_token().secret();
    for path in ["/me", "/verified/military"] {
        let by_bearer = get_bearer(&target.url(path), access).await;
        assert_eq!(by_bearer.status, 200, "{path}: {}", by_bearer.body);
        let by_cookie = person.get(&target.url(path)).await;
        assert_eq!(by_cookie.status, 200, "{path}: {}", by_cookie.body);
        // The same person, showing only what was granted: military, not the IAL2 level
        // the person also has.
        let mut granted = by_cookie.json();
        for claim in ["credential_ial", "level_of_assurance", "acr"] {
            if let Some(claims) = granted.get_mut("claims").and_then(|c| c.as_object_mut()) {
                claims.remove(claim);
            }
        }
        assert_eq!(
            by_bearer.json(),
            granted,
            "{path}: the same user, as granted"
        );
        assert_eq!(by_bearer.json()["sub"], Persona::Veteran.sub());
    }
    let refresh = token
        .refresh_token()
        .map(|r| r.secret().as_str())
        .unwrap_or_default();
    assert_not_logged(&target.app, &[&device_secret, access, refresh]);
}

/// Every error answer of the device endpoints a client can reach from outside.
pub async fn device_endpoint_errors(package: &str) {
    let target = start(package).await;
    let base = target.app.base.clone();
    let code_url = format!("{base}/auth/device/code");
    let answer = post(&code_url, &[("client_id", "nope")], &[]).await;
    answer.assert_error(401, "invalid_client", "unknown client");
    post(&code_url, &[], &[])
        .await
        .assert_error(400, "invalid_request", "no client_id");
    let answer = post(
        &code_url,
        &[("client_id", DEVICE_CLIENT), ("scope", "wizard")],
        &[],
    )
    .await;
    answer.assert_error(400, "invalid_scope", "unknown policy");
    let answer = post(
        &code_url,
        &[("client_id", DEVICE_CLIENT), ("scope", "openid military")],
        &[],
    )
    .await;
    assert_eq!(answer.status, 200, "openid is allowed: {}", answer.body);
    assert!(answer.header("cache-control").contains("no-store"));

    let token_url = format!("{base}/auth/device/token");
    let (pending, _, _) = raw_device_code(&base).await;
    poll(&base, "/auth/device/token", &pending, DEVICE_CLIENT)
        .await
        .assert_error(400, "authorization_pending", "undecided");
    poll(&base, "/auth/device/token", &pending, DEVICE_CLIENT)
        .await
        .assert_error(400, "slow_down", "polled again at once");
    poll(&base, "/auth/device/token", &pending, "nope")
        .await
        .assert_error(401, "invalid_client", "unregistered client");
    poll(
        &base,
        "/auth/device/token",
        "not-a-device-code",
        DEVICE_CLIENT,
    )
    .await
    .assert_error(400, "invalid_grant", "unknown device code");
    let form = [("grant_type", "password"), ("client_id", DEVICE_CLIENT)];
    post(&token_url, &form, &[]).await.assert_error(
        400,
        "unsupported_grant_type",
        "password grant",
    );
    let form = [("grant_type", DEVICE_GRANT), ("client_id", DEVICE_CLIENT)];
    post(&token_url, &form, &[])
        .await
        .assert_error(400, "invalid_request", "no device_code");
    // Public clients only: a secret, in the form or in Basic, is refused.
    let with_secret = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", pending.as_str()),
        ("client_id", DEVICE_CLIENT),
        ("client_secret", "s"),
    ];
    post(&token_url, &with_secret, &[])
        .await
        .assert_error(401, "invalid_client", "client_secret");
    let basic = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", pending.as_str()),
    ];
    let header = [("authorization", "Basic aWRtZS1leGFtcGxlLWRldmljZTpz")];
    post(&token_url, &basic, &header)
        .await
        .assert_error(401, "invalid_client", "Basic");

    // Denied, then decided again.
    let person = Browser::new();
    let (denied, _, complete) = raw_device_code(&base).await;
    let page = confirmation_page(&person, &complete).await;
    let form = decision_form(&page, "deny");
    let done = person
        .post_form(&format!("{base}/auth/device"), &form)
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Request denied"), "{}", done.body);
    let again = person
        .post_form(&format!("{base}/auth/device"), &form)
        .await;
    assert_eq!(again.status, 400, "a code already decided: {}", again.body);
    poll(&base, "/auth/device/token", &denied, DEVICE_CLIENT)
        .await
        .assert_error(400, "access_denied", "denied");

    // Allowed: tokens exactly once, on either token endpoint.
    let (allowed, _, complete) = raw_device_code(&base).await;
    let done = person_decides(&person, &base, &complete, "allow").await;
    assert_eq!(done.status, 200, "{}", done.body);
    let first = poll(&base, "/auth/token", &allowed, DEVICE_CLIENT).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.header("cache-control").contains("no-store"));
    assert_eq!(first.json()["token_type"], "Bearer");
    for path in ["/auth/device/token", "/auth/token"] {
        poll(&base, path, &allowed, DEVICE_CLIENT)
            .await
            .assert_error(400, "invalid_grant", "a device code used twice");
    }
}

/// The person's page: sign-in first, codes typed loosely, the CSRF token and the origin
/// checked, a policy the person lacks sent to verification, and guessing throttled.
pub async fn the_persons_page(package: &str) {
    let target = start(package).await;
    let base = target.app.base.clone();
    let anonymous = Browser::new()
        .get(&target.url("/auth/device?user_code=BCDF-GHJK"))
        .await;
    assert_eq!(anonymous.status, 303, "{}", anonymous.body);
    let to = anonymous.headers["location"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(to.contains("/auth/login?return_to="), "to the login: {to}");

    let person = Browser::new();
    assert_eq!(sign_in(&person, &target, "/me").await.status, 200);
    let form = person.get(&target.url("/auth/device")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("name=\"user_code\""),
        "a form for the code: {}",
        form.body
    );

    // Typed in lower case without the dash: the same code.
    let (device, user_code, _) = raw_device_code(&base).await;
    let typed = user_code.replace('-', "").to_lowercase();
    let page = confirmation_page(
        &person,
        &target.url(&format!("/auth/device?user_code={typed}")),
    )
    .await;
    assert!(
        page.body.contains(DEVICE_CLIENT_NAME),
        "names the client as the operator named it: {}",
        page.body
    );
    assert!(
        page.body.contains("127.0.0.1") || page.body.contains("unknown"),
        "says where the device asked from: {}",
        page.body
    );
    assert!(
        page.body.contains(&user_code),
        "shows the code: {}",
        page.body
    );

    // Forged decisions are refused, and the device is still waiting.
    let good = decision_form(&page, "allow");
    let url = format!("{base}/auth/device");
    let forged = |csrf: &str| {
        good.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if k == "csrf" {
                        csrf.to_owned()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    let refused = person.post_form(&url, &forged("forged")).await;
    assert_eq!(refused.status, 403, "a forged CSRF token: {}", refused.body);
    for headers in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "http://evil.example")],
        &[("origin", "null"), ("sec-fetch-site", "cross-site")],
    ] {
        let refused = person.post_form_with(&url, &good, headers).await;
        assert_eq!(refused.status, 403, "{headers:?}: {}", refused.body);
    }
    // Another person's CSRF token is not this person's.
    let other = Browser::new();
    assert_eq!(sign_in(&other, &target, "/me").await.status, 200);
    let other_page = confirmation_page(
        &other,
        &target.url(&format!("/auth/device?user_code={user_code}")),
    )
    .await;
    let theirs = decision_form(&other_page, "allow");
    let csrf = theirs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let refused = person.post_form(&url, &forged(&csrf)).await;
    assert_eq!(
        refused.status, 403,
        "another session's CSRF token: {}",
        refused.body
    );
    poll(&base, "/auth/device/token", &device, DEVICE_CLIENT)
        .await
        .assert_error(400, "authorization_pending", "nothing decided yet");

    // A device asking for a policy the person has not verified: off to verification.
    target.emulator.set_auto_user(Some(Persona::Student));
    let student = Browser::new();
    assert_eq!(sign_in(&student, &target, "/me").await.status, 200);
    let answer = post(
        &format!("{base}/auth/device/code"),
        &[("client_id", DEVICE_CLIENT), ("scope", "military")],
        &[],
    )
    .await;
    let complete = answer.json()["verification_uri_complete"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let page = student.get(&complete).await;
    assert_eq!(page.status, 303, "to verification: {}", page.body);
    let to = page.location().expect("a Location");
    let return_to = to
        .query_pairs()
        .find(|(k, _)| k == "return_to")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    assert!(
        to.path() == "/auth/login"
            && to
                .query_pairs()
                .any(|(k, v)| k == "policy" && v == "military")
            && return_to.starts_with("/auth/device?user_code="),
        "to the verification of military, back here: {to}"
    );

    // Guessing codes: 400 for a wrong one, then 429.
    let mut statuses = Vec::new();
    for guess in [
        "BBBB-BBBB",
        "CCCC-CCCC",
        "DDDD-DDDD",
        "FFFF-FFFF",
        "GGGG-GGGG",
        "HHHH-HHHH",
        "JJJJ-JJJJ",
    ] {
        let page = person
            .get(&target.url(&format!("/auth/device?user_code={guess}")))
            .await;
        if statuses.is_empty() {
            assert!(
                page.body.contains("That code is not valid or has expired"),
                "{}",
                page.body
            );
        }
        statuses.push(page.status);
    }
    assert_eq!(statuses[..5], [400; 5], "five wrong codes: {statuses:?}");
    assert!(
        statuses[5..].iter().all(|s| *s == 429),
        "then 429: {statuses:?}"
    );
}

/// `IDME_APP_CLIENTS` names the clients: those are served, the default device client no more.
pub async fn only_the_configured_clients(package: &str) {
    let target = Target::start(package, &[("IDME_APP_CLIENTS", "living-room-tv")]).await;
    let url = target.url("/auth/device/code");
    let answer = post(&url, &[("client_id", "living-room-tv")], &[]).await;
    assert_eq!(answer.status, 200, "a configured client: {}", answer.body);
    post(&url, &[("client_id", DEVICE_CLIENT)], &[])
        .await
        .assert_error(401, "invalid_client", "the default client, not configured");
}
