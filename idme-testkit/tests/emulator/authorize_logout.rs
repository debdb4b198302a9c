//! The authorization and logout endpoints over loopback HTTP: redirect URIs, the hybrid
//! flow, the sign-in page, logout targets.

use super::common;

use common::*;

use idme_testkit::{EmulatorConfig, Fault, Persona};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

#[tokio::test]
async fn bad_client_or_redirect_uri_never_redirects() {
    let idme = start_auto(Persona::Veteran).await;
    let url = format!("{}/oauth/authorize", idme.base_url());
    for (client_id, redirect_uri) in [
        (idme.client_id(), "http://127.0.0.1:1/evil"),
        ("nobody", REDIRECT),
    ] {
        let query = [
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", "openid"),
        ];
        let response = http()
            .get(&url)
            .query(&query)
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(LOCATION).is_none());
    }

    // Once client and redirect URI are good, errors go back on the redirect URI.
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("response_type", "code"), ("scope", "openid admiral")],
            "invalid_scope",
        ),
        (
            &[("response_type", "id_token"), ("scope", "openid")],
            "invalid_request",
        ),
        (
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("code_challenge", VERIFIER),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            &[("response_type", "code bogus"), ("scope", "openid")],
            "unsupported_response_type",
        ),
    ];
    for (extra, expected) in cases {
        let mut extra = extra.to_vec();
        extra.push(("state", "s"));
        let params = redirect_params(&authorize(&idme, &extra).await);
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(expected),
            "{extra:?}"
        );
        assert_eq!(params.get("state").map(String::as_str), Some("s"));
    }
}

#[tokio::test]
async fn hybrid_flow_c_hash_form_post_and_wrong_c_hash_fault() {
    let idme = start_auto(Persona::Teacher).await;
    let hybrid = [
        ("response_type", "id_token code"),
        ("scope", "openid teacher"),
        ("nonce", "n-h"),
        ("state", "s<&>"),
    ];
    let params = redirect_params(&authorize(&idme, &hybrid).await);
    let response = authorize(&idme, &hybrid).await;
    let location = response.headers()[LOCATION].to_str().expect("location");
    assert!(location.contains('#'), "hybrid defaults to fragment");
    let claims = verify(&idme, &params["id_token"]).await;
    assert_eq!(claims["c_hash"], half_hash(&params["code"]));
    assert_eq!(claims["nonce"], "n-h");

    idme.set_faults([Fault::WrongCHash]);
    let params = redirect_params(&authorize(&idme, &hybrid).await);
    let claims = verify(&idme, &params["id_token"]).await;
    assert!(claims["c_hash"].is_string());
    assert_ne!(claims["c_hash"], half_hash(&params["code"]));
    idme.clear_faults();

    let mut form_post = hybrid.to_vec();
    form_post.push(("response_mode", "form_post"));
    let page = authorize(&idme, &form_post).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&format!("<form method=\"post\" action=\"{REDIRECT}\">")),
        "{html}"
    );
    assert!(html.contains("document.forms[0].submit()"));
    assert!(html.contains("name=\"id_token\""));
    assert!(
        html.contains("value=\"s&lt;&amp;&gt;\""),
        "state is escaped"
    );
    assert!(html.contains("<noscript>"));
}

#[tokio::test]
async fn sign_in_page_persona_and_cancel() {
    let idme = start(EmulatorConfig::default()).await;
    let request = [
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "page"),
    ];
    let page = authorize(&idme, &request).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("<title>ID.me test sign-in</title>"));
    assert!(
        html.contains(
            r#"<button type="submit" name="persona" value="veteran" id="persona-veteran">"#
        )
    );
    assert!(html.contains(r#"id="cancel""#));
    let request_id = |html: &str| {
        let marker = "name=\"request_id\" value=\"";
        let start = html.find(marker).expect("request_id") + marker.len();
        html[start..].split('"').next().expect("value").to_owned()
    };
    let decide = |id: String, choice: (&'static str, &'static str)| {
        let url = format!("{}/oauth/authorize/decision", idme.base_url());
        async move {
            http()
                .post(url)
                .form(&[("request_id", id.as_str()), choice])
                .send()
                .await
                .expect("decision")
        }
    };

    let id = request_id(&html);
    let params = redirect_params(&decide(id.clone(), ("persona", "student")).await);
    assert!(params.contains_key("code"));
    assert_eq!(params.get("state").map(String::as_str), Some("page"));
    let replay = decide(id, ("persona", "student")).await;
    assert_eq!(
        replay.status(),
        StatusCode::BAD_REQUEST,
        "a pending request is answered once"
    );

    let html = authorize(&idme, &request).await.text().await.expect("html");
    let params = redirect_params(&decide(request_id(&html), ("cancel", "1")).await);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
}

#[tokio::test]
async fn logout_redirects_only_to_registered_origins() {
    let idme = start(EmulatorConfig::default()).await;
    let url = format!("{}/oauth/logout", idme.base_url());
    let home = "http://127.0.0.1:1/";
    let response = http()
        .get(&url)
        .query(&[("client_id", idme.client_id()), ("redirect_uri", home)])
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], home);

    let response = http()
        .get(&url)
        .query(&[
            ("client_id", idme.client_id()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .expect("html")
            .contains("You have been signed out of the ID.me test provider")
    );
    assert_eq!(idme.stats().logout, 2);
}
