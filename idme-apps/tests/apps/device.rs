//! The device authorization grant (RFC 8628) end to end in memory: the device's
//! requests, every error answer of the token endpoint, single use, the person's pages,
//! guessing limits and CSRF.

use super::common;

use std::time::Duration;

use common::apps::*;
use idme_testkit::Persona;

#[tokio::test]
async fn device_code_answers_codes_and_refuses_bad_requests() {
    let pair = rig().await;
    let codes = device_code(&pair, DEVICE, Some("openid military")).await;
    let user_code = codes["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(
        user_code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert!(codes["device_code"].as_str().unwrap().len() >= 43);
    assert_eq!(codes["verification_uri"], "https://app.example/auth/device");
    assert_eq!(
        codes["verification_uri_complete"],
        format!("https://app.example/auth/device?user_code={user_code}")
    );
    assert_eq!(codes["expires_in"], 600);
    assert_eq!(codes["interval"], 5);

    let reply = post(&pair, Route::DeviceCode, "client_id=tv-app").await;
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    for (body, expected) in [
        ("scope=military", (400, "invalid_request")),
        ("client_id=someone-else", (401, "invalid_client")),
        (
            "client_id=tv-app&scope=military+wizard",
            (400, "invalid_scope"),
        ),
        (
            "client_id=tv-app&client_id=tv-app",
            (400, "invalid_request"),
        ),
        ("client_id=tv-app&client_secret=s", (401, "invalid_client")),
    ] {
        let reply = post(&pair, Route::DeviceCode, body).await;
        let (status, code) = error(&reply);
        assert_eq!((status, code.as_str()), expected, "{body}");
    }
}

#[tokio::test]
async fn polls_answer_pending_slow_down_and_the_interval_grows_by_five_seconds() {
    let pair = rig().await;
    let codes = device_code(&pair, DEVICE, None).await;
    let dc = codes["device_code"].as_str().unwrap();
    assert_eq!(
        error(&poll(&pair, DEVICE, dc).await),
        (400, "authorization_pending".into())
    );
    // Again at once: too fast.
    assert_eq!(
        error(&poll(&pair, DEVICE, dc).await),
        (400, "slow_down".into())
    );
    // The interval is now 10 s (then 15 after that slow_down): 5 s is still too soon.
    pair.advance(Duration::from_secs(5));
    assert_eq!(
        error(&poll(&pair, DEVICE, dc).await),
        (400, "slow_down".into())
    );
    pair.advance(Duration::from_secs(14));
    assert_eq!(
        error(&poll(&pair, DEVICE, dc).await),
        (400, "slow_down".into())
    );
    pair.advance(Duration::from_secs(20));
    assert_eq!(
        error(&poll(&pair, DEVICE, dc).await),
        (400, "authorization_pending".into())
    );
}

#[tokio::test]
async fn denied_expired_unknown_foreign_used_and_malformed_polls_get_their_errors() {
    let pair = rig().await;
    // access_denied after the person denies.
    let codes = device_code(&pair, DEVICE, None).await;
    let mut browser = pair.sign_in().await;
    let confirm = page_for(&pair, &mut browser, codes["user_code"].as_str().unwrap()).await;
    let denied = decide(&pair, &mut browser, &confirm, "deny").await;
    assert_eq!(denied.status, 200);
    assert!(denied.body.contains("Request denied"), "{}", denied.body);
    let dc = codes["device_code"].as_str().unwrap();
    assert_eq!(
        error(&poll(&pair, DEVICE, dc).await),
        (400, "access_denied".into())
    );

    // expired_token once expires_in has passed.
    let codes = device_code(&pair, DEVICE, None).await;
    let dc = codes["device_code"].as_str().unwrap();
    pair.advance(Duration::from_secs(601));
    assert_eq!(
        error(&poll(&pair, DEVICE, dc).await),
        (400, "expired_token".into())
    );

    // invalid_grant: unknown, another client's, used.
    let codes = device_code(&pair, DEVICE, None).await;
    let dc = codes["device_code"].as_str().unwrap();
    assert_eq!(
        error(&poll(&pair, DEVICE, "not-a-code").await),
        (400, "invalid_grant".into())
    );
    assert_eq!(
        error(&poll(&pair, NATIVE, dc).await),
        (400, "invalid_grant".into())
    );
    let (_, _) = approved(&pair, DEVICE, None).await;
    let codes = device_code(&pair, DEVICE, None).await;
    let dc = codes["device_code"].as_str().unwrap();
    let confirm = page_for(&pair, &mut browser, codes["user_code"].as_str().unwrap()).await;
    let _ = decide(&pair, &mut browser, &confirm, "allow").await;
    pair.advance(Duration::from_secs(5));
    assert_eq!(poll(&pair, DEVICE, dc).await.status, 200);
    pair.advance(Duration::from_secs(5));
    assert_eq!(
        error(&poll(&pair, DEVICE, dc).await),
        (400, "invalid_grant".into())
    );

    // invalid_client, unsupported_grant_type, invalid_request.
    assert_eq!(
        error(&poll(&pair, "stranger", dc).await),
        (401, "invalid_client".into())
    );
    for (body, expected) in [
        (
            form(&[("grant_type", "password"), ("client_id", DEVICE)]),
            (400, "unsupported_grant_type"),
        ),
        (
            form(&[("grant_type", "client_credentials")]),
            (400, "unsupported_grant_type"),
        ),
        (
            form(&[("client_id", DEVICE), ("device_code", dc)]),
            (400, "invalid_request"),
        ),
        (
            form(&[("grant_type", DEVICE_GRANT), ("client_id", DEVICE)]),
            (400, "invalid_request"),
        ),
        (
            form(&[("grant_type", DEVICE_GRANT), ("device_code", dc)]),
            (400, "invalid_request"),
        ),
        (
            form(&[
                ("grant_type", DEVICE_GRANT),
                ("device_code", dc),
                ("client_id", DEVICE),
                ("client_secret", "x"),
            ]),
            (401, "invalid_client"),
        ),
    ] {
        let reply = post(&pair, Route::Token, &body).await;
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let (status, code) = error(&reply);
        assert_eq!((status, code.as_str()), expected, "{body}");
    }
    let basic = form(&[
        ("grant_type", DEVICE_GRANT),
        ("device_code", dc),
        ("client_id", DEVICE),
    ]);
    let reply = call(
        &pair,
        Route::Token,
        true,
        None,
        &basic,
        &[("authorization", "Basic dHYtYXBwOng=")],
        None,
    )
    .await;
    assert_eq!(error(&reply), (401, "invalid_client".into()));
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic "), "{challenge}");
}

#[tokio::test]
async fn the_persons_page_signs_in_first_then_asks_for_the_code_and_confirms() {
    let pair = rig().await;
    let codes = device_code(&pair, DEVICE, None).await;
    let user_code = codes["user_code"].as_str().unwrap();
    let mut anonymous = idme_testkit::pair::Browser::default();
    let query = format!("user_code={user_code}");
    let reply = page(&pair, &mut anonymous, Some(&query)).await;
    assert_eq!(reply.status, 303);
    let to = reply.header("location").unwrap();
    assert_eq!(
        to,
        format!("/auth/login?return_to=%2Fauth%2Fdevice%3Fuser_code%3D{user_code}")
    );

    let mut browser = pair.sign_in().await;
    let form_page = page(&pair, &mut browser, None).await;
    assert_eq!(form_page.status, 200);
    assert!(
        form_page.body.contains("name=\"user_code\""),
        "{}",
        form_page.body
    );
    assert!(
        form_page
            .header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );

    // Typed in lower case with a space: normalised.
    let typed = user_code.to_lowercase().replace('-', " ");
    let confirm = page_for(&pair, &mut browser, &typed).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains(DEVICE));
    assert!(confirm.body.contains(user_code));
    assert!(confirm.body.contains("value=\"allow\"") && confirm.body.contains("value=\"deny\""));
    let done = decide(&pair, &mut browser, &confirm, "allow").await;
    assert!(
        done.body
            .contains("Device connected. You can return to your device."),
        "{}",
        done.body
    );
    // Decided: the code is gone.
    let again = page_for(&pair, &mut browser, user_code).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("That code is not valid or has expired"));
    let twice = decide(&pair, &mut browser, &confirm, "deny").await;
    assert_eq!(twice.status, 400, "{}", twice.body);
}

#[tokio::test]
async fn html_in_a_typed_code_is_escaped() {
    let pair = rig().await;
    let mut browser = pair.sign_in().await;
    let reply = page_for(&pair, &mut browser, "<script>x").await;
    assert_eq!(reply.status, 400);
    assert!(!reply.body.contains("<script>x"), "{}", reply.body);
    assert!(reply.body.contains("&lt;script&gt;x"), "{}", reply.body);
}

#[tokio::test]
async fn five_wrong_codes_per_person_then_429_even_for_the_right_one() {
    let pair = rig().await;
    let codes = device_code(&pair, DEVICE, None).await;
    let mut browser = pair.sign_in().await;
    for wrong in [
        "BBBB-BBBB",
        "CCCC-CCCC",
        "DDDD-DDDD",
        "FFFF-FFFF",
        "GGGG-GGGG",
    ] {
        assert_eq!(page_for(&pair, &mut browser, wrong).await.status, 400);
    }
    let right = codes["user_code"].as_str().unwrap();
    let reply = page_for(&pair, &mut browser, right).await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    // Another person is not held back by this one's guesses.
    let other = rig_as(Persona::Student, |b| b).await;
    let codes = device_code(&other, DEVICE, None).await;
    let mut student = other.sign_in().await;
    let page = page_for(&other, &mut student, codes["user_code"].as_str().unwrap()).await;
    assert_eq!(page.status, 200);
    // After the window, the person may try again.
    pair.advance(Duration::from_secs(300));
    let codes = device_code(&pair, DEVICE, None).await;
    assert_eq!(
        page_for(&pair, &mut browser, codes["user_code"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_decision_needs_the_csrf_token_of_this_session_and_code_from_this_site() {
    let pair = rig().await;
    let codes = device_code(&pair, DEVICE, None).await;
    let dc = codes["device_code"].as_str().unwrap();
    let mut browser = pair.sign_in().await;
    let confirm = page_for(&pair, &mut browser, codes["user_code"].as_str().unwrap()).await;
    let code = field(&confirm.body, "user_code").unwrap();
    let csrf = field(&confirm.body, "csrf").unwrap();
    let origin = pair.origin();
    let same = [
        ("origin", origin.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];

    // Missing token.
    let r = decide_with(
        &pair,
        &mut browser,
        &[("user_code", &code), ("decision", "allow")],
        &same,
    )
    .await;
    assert_eq!(r.status, 403);
    // The token of another session (the same person in another browser).
    let mut other = pair.sign_in().await;
    let r = decide_with(
        &pair,
        &mut other,
        &[("user_code", &code), ("csrf", &csrf), ("decision", "allow")],
        &same,
    )
    .await;
    assert_eq!(r.status, 403);
    // The token of another code.
    let codes2 = device_code(&pair, DEVICE, None).await;
    let code2 = codes2["user_code"].as_str().unwrap().replace('-', "");
    let r = decide_with(
        &pair,
        &mut browser,
        &[
            ("user_code", &code2),
            ("csrf", &csrf),
            ("decision", "allow"),
        ],
        &same,
    )
    .await;
    assert_eq!(r.status, 403);
    // Cross-site, whatever the token.
    let fields = [
        ("user_code", code.as_str()),
        ("csrf", csrf.as_str()),
        ("decision", "allow"),
    ];
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site"), ("origin", origin.as_str())],
        vec![("origin", "https://evil.example")],
    ] {
        let r = decide_with(&pair, &mut browser, &fields, &headers).await;
        assert_eq!(r.status, 403, "{headers:?}");
    }
    assert_eq!(
        error(&poll(&pair, DEVICE, dc).await),
        (400, "authorization_pending".into())
    );
    // Without Origin or Sec-Fetch-Site there is no same-origin signal: refused, as on the
    // consent page (every browser that runs the page sends one).
    let r = decide_with(&pair, &mut browser, &fields, &[]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // The page's own form, as a browser posts it (`Origin: null` under no-referrer).
    let own = [("sec-fetch-site", "same-origin"), ("origin", "null")];
    let r = decide_with(&pair, &mut browser, &fields, &own).await;
    assert_eq!(r.status, 200, "{}", r.body);
    pair.advance(Duration::from_secs(5));
    assert_eq!(poll(&pair, DEVICE, dc).await.status, 200);
}

#[tokio::test]
async fn a_device_asking_military_sends_an_unverified_person_to_verify() {
    let pair = rig_as(Persona::Unverified, |b| b).await;
    let codes = device_code(&pair, DEVICE, Some("military")).await;
    let user_code = codes["user_code"].as_str().unwrap();
    let mut browser = pair.sign_in().await;
    let reply = page_for(&pair, &mut browser, user_code).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let to = reply.header("location").unwrap();
    let expected = pair.idme.verify_url_for(
        &idme_core::Policy::Military,
        &format!("/auth/device?user_code={user_code}&verification_tried=1"),
    );
    assert_eq!(to, expected);
    // A veteran gets the confirmation, which names the client and the policy, and the
    // tokens say so.
    let pair = rig().await;
    let codes = device_code(&pair, DEVICE, Some("military")).await;
    let mut browser = pair.sign_in().await;
    let confirm = page_for(&pair, &mut browser, codes["user_code"].as_str().unwrap()).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(
        confirm.body.contains("<li>verified military status</li>"),
        "{}",
        confirm.body
    );
    assert!(
        confirm.body.contains(&format!(">{DEVICE}<")),
        "{}",
        confirm.body
    );
    let (_, tokens) = approved(&pair, DEVICE, Some("openid military")).await;
    assert_eq!(tokens["scope"], "military");
}

#[tokio::test]
async fn a_person_back_from_verification_still_unverified_is_told_not_sent_round_again() {
    // ID.me can sign a person in without verifying them (they gave up, or their
    // verification is under review): the device page must not send them round again.
    let pair = rig_as(Persona::Unverified, |b| b).await;
    let codes = device_code(&pair, DEVICE, Some("military")).await;
    let user_code = codes["user_code"].as_str().unwrap();
    let mut browser = pair.sign_in().await;
    let mut reply = page_for(&pair, &mut browser, user_code).await;
    let mut rounds = 0;
    while reply.status == 303 && rounds < 5 {
        rounds += 1;
        let (back, callback) = go_verify(&pair, browser, &location(&reply)).await;
        browser = back;
        let to = location(&callback);
        let (path, query) = to.split_once('?').unwrap_or((&to, ""));
        assert_eq!(path, "/auth/device", "{to}");
        reply = page(&pair, &mut browser, Some(query)).await;
    }
    assert_eq!(rounds, 1, "sent to verify once, not round and round");
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(reply.body.contains("military"), "{}", reply.body);
    // The page offers to try again (one click, one round) and names no token.
    assert!(
        reply.body.contains("href=\"/auth/login?policy=military"),
        "{}",
        reply.body
    );
    assert_eq!(
        error(&poll(&pair, DEVICE, codes["device_code"].as_str().unwrap()).await),
        (400, "authorization_pending".into())
    );
}
