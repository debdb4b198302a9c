//! The tokens an example app issues to its app clients, from the outside: bearer requests
//! (RFC 6750), refresh rotation with reuse detection, revocation (RFC 7009), the person's
//! logout, and the code + PKCE relay for native apps (RFC 8252, RFC 7636) with the
//! `oauth2` crate on a loopback redirect.

use idme_testkit::Persona;
use idme_testkit::browser::Browser;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, TokenResponse as _};
use url::Url;

use crate::apps::{
    DEVICE_CLIENT, OAuthHttp, Tokens, assert_invalid_token, assert_not_logged, consent_form,
    device_tokens, get_bearer, get_with, person_consents, post, refresh, revoke,
};
use crate::device_scenarios::start;
use crate::loopback_app::LoopbackApp;
use crate::scenarios::SESSION;

/// Bad bearer tokens are refused with the RFC 6750 challenge; a good one works whatever
/// the scheme's case and wins over a session cookie; never read from the query string.
pub async fn bearer_requests(package: &str) {
    let target = start(package).await;
    let base = target.app.base.clone();
    let me = target.url("/me");
    // Shaped like the app's tokens (`<grant>.<secret>`): the token alone decides.
    for (what, header) in [
        ("a made-up grant", FORGED),
        ("a short one", "Bearer abc.def"),
    ] {
        assert_invalid_token(&get_with(&me, header).await, what);
    }
    // Not shaped like the app's (an API gateway's JWT, an opaque token, nothing): not this
    // app's credential, so the request is as if it carried none: the bearer challenge.
    for (what, header) in FOREIGN {
        let answer = get_with(&me, header).await;
        assert_eq!(answer.status, 401, "{what}: {}", answer.body);
        assert_eq!(answer.header("www-authenticate"), "Bearer", "{what}");
        assert_eq!(answer.error(), "unauthenticated", "{what}");
    }
    let person = Browser::new();
    let tokens = device_tokens(&base, &person, &[]).await;
    assert!(
        tokens.response.get("scope").is_none(),
        "no policy, no scope: {}",
        tokens.response
    );
    // The person is a verified veteran, but the device asked for nothing: its token shows
    // no verification, and a route that needs one refuses it as RFC 6750 says.
    let mine = get_bearer(&me, &tokens.access).await;
    assert_eq!(mine.json()["verification"]["groups"], serde_json::json!([]));
    let military = get_bearer(&target.url("/verified/military"), &tokens.access).await;
    assert_eq!(military.status, 403, "{}", military.body);
    let challenge = military.header("www-authenticate");
    assert!(
        challenge.contains("error=\"insufficient_scope\", scope=\"military\""),
        "{challenge}"
    );
    let lower = get_with(&me, &format!("bearer {}", tokens.access)).await;
    assert_eq!(
        lower.status, 200,
        "the scheme is case-insensitive: {}",
        lower.body
    );
    let query = get_with(
        &format!("{me}?access_token={}", tokens.access),
        "Basic eDp5",
    )
    .await;
    assert_eq!(query.status, 401, "never from the query: {}", query.body);
    assert_ne!(query.json()["sub"], Persona::Veteran.sub());
    // Beside a good session cookie, a bad token of the app's shape decides (401); another
    // party's token (an API gateway's) leaves the cookie to decide (200).
    let cookie = person.cookie(SESSION).expect("the person's session");
    for (authorization, status) in [(FORGED, 401), (FOREIGN[0].1, 200), (FOREIGN[1].1, 200)] {
        let both = reqwest::Client::new()
            .get(&me)
            .header("authorization", authorization)
            .header("cookie", format!("{SESSION}={cookie}"))
            .header("accept", "application/json")
            .send()
            .await
            .expect("the app answers");
        assert_eq!(both.status().as_u16(), status, "{authorization}");
    }
}

/// A token of the app's shape that it never issued.
const FORGED: &str = "Bearer AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

/// Bearer credentials that are not the app's.
const FOREIGN: [(&str, &str); 4] = [
    (
        "a gateway's JWT",
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJnYXRld2F5In0.c2lnbmF0dXJl",
    ),
    ("opaque", "Bearer garbage"),
    ("three parts", "Bearer g.abc.def"),
    ("empty", "Bearer "),
];

/// Where the user is optional (`Option<IdmeUser>`, the home page): a presented bad bearer
/// token of the app's is refused, never taken for "anonymous"; someone else's is no
/// credential of this app (anonymous); a good one is the user.
pub async fn optional_user_refuses_a_bad_bearer(package: &str) {
    let target = start(package).await;
    let home = get_with(&target.url("/"), FORGED).await;
    assert_invalid_token(&home, "a bad bearer on /");
    let home = get_with(&target.url("/"), FOREIGN[0].1).await;
    assert_eq!(home.status, 200, "a gateway's token on /: {}", home.body);
    let tokens = device_tokens(&target.app.base, &Browser::new(), &[]).await;
    let home = get_bearer(&target.url("/"), &tokens.access).await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(
        home.body.contains("Sign out"),
        "signed in by the bearer: {}",
        home.body
    );
}

/// A refresh rotates both tokens; the client's own retry with the token it just rotated
/// (within the reuse interval) gets the same new pair; a refresh token rotated away earlier
/// presented again revokes the whole family; unknown refresh tokens are `invalid_grant`.
pub async fn refresh_rotation_and_reuse(package: &str) {
    let target = start(package).await;
    let base = target.app.base.clone();
    let person = Browser::new();
    let first = device_tokens(&base, &person, &[]).await;
    let second = Tokens::of(&refresh(&base, &first.refresh).await);
    assert_ne!(second.refresh, first.refresh, "a new refresh token");
    assert_ne!(second.access, first.access, "a new access token");
    assert_eq!(
        get_bearer(&target.url("/me"), &second.access).await.status,
        200
    );
    assert_invalid_token(
        &get_bearer(&target.url("/me"), &first.access).await,
        "the old access token",
    );
    // A lost response: the retry with the token just rotated gets the same pair again.
    let retried = Tokens::of(&refresh(&base, &first.refresh).await);
    assert_eq!(
        (&retried.access, &retried.refresh),
        (&second.access, &second.refresh),
        "a retry within the reuse interval"
    );
    let third = Tokens::of(&refresh(&base, &second.refresh).await);
    // `first` was rotated away two rotations ago: a reuse, which ends the family.
    refresh(&base, &first.refresh).await.assert_error(
        400,
        "invalid_grant",
        "a refresh token rotated away earlier",
    );
    assert_invalid_token(
        &get_bearer(&target.url("/me"), &third.access).await,
        "the family after a reuse",
    );
    refresh(&base, &third.refresh).await.assert_error(
        400,
        "invalid_grant",
        "the family's refresh token after a reuse",
    );
    let secrets = [
        &first.access,
        &first.refresh,
        &second.access,
        &second.refresh,
        &third.access,
        &third.refresh,
    ];
    assert_not_logged(&target.app, &secrets.map(String::as_str));
    refresh(&base, "g.unknown.token").await.assert_error(
        400,
        "invalid_grant",
        "an unknown refresh token",
    );
    post(
        &format!("{base}/auth/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEVICE_CLIENT),
        ],
        &[],
    )
    .await
    .assert_error(400, "invalid_request", "no refresh_token");
}

/// `POST /auth/revoke` (RFC 7009) by refresh or access token ends the family; unknown
/// tokens are 200 too; an unregistered client is 401. The person's logout revokes their
/// devices' tokens.
pub async fn revocation_and_logout(package: &str) {
    let target = start(package).await;
    let base = target.app.base.clone();
    let me = target.url("/me");
    let person = Browser::new();
    for by_refresh in [true, false] {
        let tokens = device_tokens(&base, &person, &[]).await;
        let token = if by_refresh {
            &tokens.refresh
        } else {
            &tokens.access
        };
        let answer = revoke(&base, token).await;
        assert_eq!((answer.status, answer.body.as_str()), (200, ""), "revoked");
        assert_invalid_token(&get_bearer(&me, &tokens.access).await, "after a revocation");
        refresh(&base, &tokens.refresh).await.assert_error(
            400,
            "invalid_grant",
            "refresh after a revocation",
        );
    }
    let answer = revoke(&base, "never-issued").await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, ""),
        "unknown token"
    );
    post(
        &format!("{base}/auth/revoke"),
        &[("token", "x"), ("client_id", "nope")],
        &[],
    )
    .await
    .assert_error(401, "invalid_client", "revoke by an unregistered client");

    let tokens = device_tokens(&base, &person, &[]).await;
    assert_eq!(get_bearer(&me, &tokens.access).await.status, 200);
    let out = person.post_form(&target.url("/auth/logout"), &[]).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_invalid_token(
        &get_bearer(&me, &tokens.access).await,
        "after the person's logout",
    );
    refresh(&base, &tokens.refresh).await.assert_error(
        400,
        "invalid_grant",
        "refresh after the person's logout",
    );
}

/// A back-channel logout from ID.me for the person revokes their devices' tokens too.
pub async fn backchannel_logout_revokes_device_tokens(package: &str) {
    let target = start(package).await;
    let base = target.app.base.clone();
    let tokens = device_tokens(&base, &Browser::new(), &[]).await;
    assert_eq!(
        get_bearer(&target.url("/me"), &tokens.access).await.status,
        200
    );
    let logout = target
        .emulator
        .logout_token(Persona::Veteran, serde_json::Value::Null);
    let status = target
        .emulator
        .post_logout_token(&target.url("/auth/backchannel-logout"), &logout)
        .await
        .expect("the app answers");
    assert_eq!(status, 200);
    assert_invalid_token(
        &get_bearer(&target.url("/me"), &tokens.access).await,
        "after a back-channel logout",
    );
    refresh(&base, &tokens.refresh).await.assert_error(
        400,
        "invalid_grant",
        "refresh after a back-channel logout",
    );
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The code + PKCE relay for native apps with the `oauth2` crate on a loopback redirect:
/// the person signs in with ID.me and lands on the consent page, the loopback listener
/// hears nothing until they allow; then the app comes back to it with a one-time code and
/// `iss`, the code is exchanged once with its verifier; errors.
pub async fn authorize_relay_with_pkce(package: &str) {
    let target = start(package).await;
    let base = target.app.base.clone();
    let LoopbackApp {
        client,
        port,
        redirect,
        url,
        state,
        verifier,
        came_back,
    } = LoopbackApp::start(&base).await;
    let person = Browser::new();
    let first = person.get(url.as_str()).await;
    assert_eq!(first.status, 303, "to the login first: {}", first.body);
    let page = person.navigate(first, None).await;
    assert_eq!(page.status, 200, "the consent page: {}", page.body);
    assert!(page.body.contains("value=\"allow\""), "{}", page.body);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!came_back.is_finished(), "no code before the person allows");
    let end = person_consents(&person, &base, &page, "allow").await;
    assert_eq!(
        end.body, "signed in",
        "ends on the loopback listener: {}",
        end.url
    );
    let back = came_back.await.expect("the listener ran");
    assert_eq!(back.path(), "/callback");
    assert_eq!(
        query(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        query(&back, "iss").as_deref(),
        Some(base.as_str()),
        "RFC 9207 iss: {back}"
    );
    let code = query(&back, "code").expect("a code");
    let http = OAuthHttp::default();
    let token = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("the code is exchanged: {e:?}"));
    let me = get_bearer(&target.url("/me"), token.access_token().secret()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["sub"], Persona::Veteran.sub());
    let exchange = |code: String, verifier: String, redirect_uri: String| {
        let url = format!("{base}/auth/token");
        async move {
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect_uri.as_str()),
                ("client_id", DEVICE_CLIENT),
                ("code_verifier", verifier.as_str()),
            ];
            post(&url, &form, &[]).await
        }
    };
    let any_verifier = "a".repeat(43);
    exchange(code, any_verifier.clone(), redirect.clone())
        .await
        .assert_error(400, "invalid_grant", "a code used twice");

    // Signed in now: the consent page again (never remembered), then the code; a wrong
    // verifier or redirect URI fails.
    for (verifier, redirect_uri, what) in [
        (any_verifier.clone(), redirect.clone(), "a wrong verifier"),
        (
            any_verifier,
            format!("http://127.0.0.1:{port}/other"),
            "another redirect URI",
        ),
    ] {
        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        let (url, _) = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .url();
        let page = person.get(url.as_str()).await;
        assert_eq!(page.status, 200, "{what}: the consent page: {}", page.body);
        let allowed = person
            .post_form(
                &format!("{base}/auth/authorize"),
                &consent_form(&page, "allow"),
            )
            .await;
        let to = allowed
            .location()
            .unwrap_or_else(|| panic!("{what}: {}", allowed.body));
        assert!(to.as_str().starts_with(&redirect), "{what}: {to}");
        let code = query(&to, "code").expect("a code");
        exchange(code, verifier, redirect_uri)
            .await
            .assert_error(400, "invalid_grant", what);
    }

    // A bad client or redirect URI: an error page, never a redirect. Other errors go back
    // to the app with `error`, `state` and `iss`.
    let authorize = |pairs: &[(&str, &str)]| {
        let mut url = Url::parse(&format!("{base}/auth/authorize")).expect("a URL");
        url.query_pairs_mut().extend_pairs(pairs);
        url.to_string()
    };
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let localhost = format!("http://localhost:{port}/callback");
    let other_path = format!("http://127.0.0.1:{port}/other");
    for (client_id, redirect_uri) in [
        ("nope", redirect.as_str()),
        (DEVICE_CLIENT, localhost.as_str()),
        (DEVICE_CLIENT, other_path.as_str()),
        (DEVICE_CLIENT, "https://evil.example/cb"),
    ] {
        let page = person
            .get(&authorize(&[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
                ("state", "s1"),
            ]))
            .await;
        assert_eq!(
            page.status, 400,
            "{client_id} {redirect_uri}: {}",
            page.body
        );
        assert!(page.location().is_none(), "never a redirect");
    }
    for (pairs, error) in [
        (vec![("response_type", "code")], "invalid_request"),
        (
            vec![
                ("response_type", "code"),
                ("code_challenge", challenge),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("response_type", "code"),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
                ("scope", "wizard"),
            ],
            "invalid_scope",
        ),
        (
            vec![
                ("response_type", "token"),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
            "unsupported_response_type",
        ),
    ] {
        let mut all = pairs.clone();
        all.extend([
            ("client_id", DEVICE_CLIENT),
            ("redirect_uri", redirect.as_str()),
            ("state", "s2"),
        ]);
        let page = person.get(&authorize(&all)).await;
        let to = page
            .location()
            .unwrap_or_else(|| panic!("{pairs:?}: {}", page.body));
        assert!(to.as_str().starts_with(&redirect), "{pairs:?}: {to}");
        assert_eq!(
            query(&to, "error").as_deref(),
            Some(error),
            "{pairs:?}: {to}"
        );
        assert_eq!(query(&to, "state").as_deref(), Some("s2"));
        assert_eq!(query(&to, "iss").as_deref(), Some(base.as_str()));
    }
}
