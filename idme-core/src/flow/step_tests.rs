//! The flow's steps driven by hand: canned answers in, the next request (or the outcome)
//! out. No network, no engine, no clock: `now` is passed.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Value, json};

use super::by_hand::{On, Stage, Waiting, stage};
use super::callback::parse_form;
use super::pending::PendingLogin;
use super::refresh::{self, Refresh, Refreshed};
use super::sign_in::{self, SignIn, SignedIn};
use super::step::{Ctx, Flow};
use super::{ResponseMode, ResponseType, user_data};
use crate::config::{IdmeBuilder, IdmeConfig, TokenAuthMethod, UserDataSource};
use crate::cookies::CookieKeys;
use crate::error::{Endpoint, Error, ProviderMisbehaved, ProviderUnavailable};
use crate::http_client::{HttpResponse, ResponseLimit};
use crate::provider::{Outbound, ProviderMetadata};
use crate::secret::{Nonce, PkceVerifier, RefreshToken, State};
use crate::validate::jws::KeysWanted;
use crate::validate::jws::tests::{EC1, ec_jwks, es256};
use crate::validate::key_set::KeySnapshot;

const ISSUER: &str = "https://idp.example";
const REDIRECT: &str = "https://app.example/auth/callback";
const USERINFO: &str = "https://idp.example/api/public/v3/userinfo";
const ATTRIBUTES: &str = "https://idp.example/api/public/v3/attributes.json";
const NOW: u64 = 1_700_000_000;

fn config(configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder) -> IdmeConfig {
    configure(
        IdmeBuilder::new()
            .client_id("my client")
            .client_secret("s3:cr&t")
            .redirect_uri(REDIRECT)
            .cookie_keys(CookieKeys::random()),
    )
    .build()
    .unwrap()
}

fn meta() -> ProviderMetadata {
    ProviderMetadata {
        issuer: ISSUER.into(),
        authorization_endpoint: format!("{ISSUER}/oauth/authorize"),
        token_endpoint: format!("{ISSUER}/oauth/token"),
        userinfo_endpoint: Some(USERINFO.into()),
        jwks_uri: format!("{ISSUER}/.well-known/jwks"),
        end_session_endpoint: None,
        authorization_response_iss_parameter_supported: false,
    }
}

/// A key set holding the test key under `kid`.
fn keys(kid: &str, generation: u64) -> Arc<KeySnapshot> {
    Arc::new(KeySnapshot::new(
        ec_jwks(&[(Some(kid), EC1)]),
        generation,
        NOW,
    ))
}

fn ctx<'a>(
    config: &'a IdmeConfig,
    meta: &'a ProviderMetadata,
    keys: Option<Arc<KeySnapshot>>,
) -> Ctx<'a> {
    Ctx {
        config,
        issuer: ISSUER,
        meta,
        keys,
    }
}

fn pending() -> PendingLogin {
    PendingLogin {
        state: State::new("st"),
        nonce: Nonce::new("n-1"),
        pkce_verifier: Some(PkceVerifier::new("verifier-1")),
        return_to: "/me".into(),
        created_at: NOW,
        response_type: ResponseType::Code,
        response_mode: ResponseMode::Query,
        max_age: None,
        acr_values: None,
        acr_required: false,
        redirect_uri: None,
    }
}

/// An ID token for `sub` signed with the test key under `kid`, issued at `NOW`.
fn id_token(kid: &str, sub: &str) -> String {
    es256(
        Some(kid),
        json!({"iss": ISSUER, "aud": "my client", "sub": sub, "nonce": "n-1",
               "iat": NOW, "exp": NOW + 300}),
    )
}

fn answer(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

fn json_answer(status: u16, body: Value) -> HttpResponse {
    answer(status, "application/json", body.to_string())
}

fn tokens(access: &str, refresh: Option<&str>, id_token: Option<&str>) -> HttpResponse {
    let mut body = json!({"access_token": access, "token_type": "Bearer", "expires_in": 300});
    if let Some(rt) = refresh {
        body["refresh_token"] = rt.into();
    }
    if let Some(t) = id_token {
        body["id_token"] = t.into();
    }
    json_answer(200, body)
}

fn jwks(kid: &str) -> HttpResponse {
    let (x, y) = EC1;
    json_answer(
        200,
        json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": kid, "x": x, "y": y}]}),
    )
}

const ATTRIBUTES_BODY: &str = r#"{"attributes":[{"handle":"uuid","value":"user-1"}],
    "status":[{"group":"military","subgroups":["Veteran"],"verified":true}]}"#;

/// The request a flow asks for, and the flow waiting for its answer.
fn sent<F: Flow>(stage: Result<Stage<'_, F>, Error>) -> (Outbound, Waiting<'_, F>)
where
    F::Output: std::fmt::Debug,
{
    match stage.unwrap() {
        Stage::Asks(request, waiting) => (*request, waiting),
        Stage::Done(output) => panic!("expected a request, the flow ended: {output:?}"),
    }
}

fn form(request: &Outbound) -> HashMap<String, String> {
    url::form_urlencoded::parse(request.request.body())
        .into_owned()
        .collect()
}

fn header(request: &Outbound, name: http::header::HeaderName) -> Option<String> {
    request
        .request
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn bearer(request: &Outbound) -> Option<String> {
    header(request, http::header::AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned))
}

/// Starts a `code` login's callback (`code=c-1`).
fn begin(ctx: Ctx<'_>) -> Result<Stage<'_, SignIn>, Error> {
    let params = parse_form(b"code=c-1&state=st").unwrap();
    let next = sign_in::begin(&ctx, &params, pending(), NOW)?;
    stage(ctx, next)
}

/// Starts a refresh of `user-1` with `rt-1`.
fn begin_refresh<'a>(ctx: Ctx<'a>, nonce: Option<&str>) -> Result<Stage<'a, Refresh>, Error> {
    let next = refresh::begin(
        &ctx,
        RefreshToken::new("rt-1"),
        "user-1".into(),
        nonce.map(Nonce::new),
    )?;
    stage(ctx, next)
}

#[test]
fn the_code_exchange_sends_the_verifier_and_the_exact_redirect_uri() {
    let (config, meta) = (config(|b| b), meta());
    let (request, waiting) = sent(begin(ctx(&config, &meta, None)));
    assert!(matches!(
        waiting.on,
        On::Response(sign_in::Awaiting::Token(_))
    ));
    assert_eq!(request.endpoint, Endpoint::Token);
    assert_eq!(request.request.method(), http::Method::POST);
    assert_eq!(request.request.uri(), "https://idp.example/oauth/token");
    assert_eq!(ResponseLimit::of(&request.request), Some(1024 * 1024));
    let form = form(&request);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "c-1");
    assert_eq!(form["redirect_uri"], REDIRECT);
    assert_eq!(form["code_verifier"], "verifier-1");
}

#[test]
fn client_authentication_follows_the_token_auth_method() {
    let meta = meta();
    let basic = config(|b| b.token_auth(TokenAuthMethod::ClientSecretBasic));
    let (request, _) = sent(begin(ctx(&basic, &meta, None)));
    let auth = header(&request, http::header::AUTHORIZATION).unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.strip_prefix("Basic ").unwrap())
        .unwrap();
    assert_eq!(decoded, b"my+client:s3%3Acr%26t");
    assert!(!form(&request).contains_key("client_secret"));

    let post = config(|b| b.token_auth(TokenAuthMethod::ClientSecretPost));
    let (request, _) = sent(begin_refresh(ctx(&post, &meta, None), None));
    assert_eq!(header(&request, http::header::AUTHORIZATION), None);
    let form = form(&request);
    assert_eq!(
        (form["client_id"].as_str(), form["client_secret"].as_str()),
        ("my client", "s3:cr&t")
    );
    assert_eq!(
        (form["grant_type"].as_str(), form["refresh_token"].as_str()),
        ("refresh_token", "rt-1")
    );
}

#[test]
fn each_single_use_access_token_is_sent_once_and_the_refreshed_one_reads_attributes() {
    let (config, meta) = (config(|b| b), meta());
    let mut seen = Vec::new();
    let (request, waiting) = sent(begin(ctx(&config, &meta, Some(keys("k1", 1)))));
    seen.push(request);
    let answer_to = |seen: &Vec<Outbound>| -> HttpResponse {
        let last = seen.last().unwrap();
        match (last.endpoint, bearer(last).as_deref()) {
            (Endpoint::Token, _) if form(last)["grant_type"] == "authorization_code" => {
                tokens("at-1", Some("rt-1"), Some(&id_token("k1", "user-1")))
            }
            (Endpoint::Token, _) => tokens("at-2", Some("rt-2"), None),
            (Endpoint::Userinfo, Some("at-1")) => json_answer(200, json!({"sub": "user-1"})),
            (Endpoint::Attributes, Some("at-2")) if last.request.uri() == ATTRIBUTES => {
                answer(200, "application/json", ATTRIBUTES_BODY)
            }
            other => panic!("unexpected request {other:?}"),
        }
    };
    let mut stage = waiting.answer(answer_to(&seen), NOW);
    let signed_in = loop {
        match stage.unwrap() {
            Stage::Asks(request, waiting) => {
                seen.push(*request);
                stage = waiting.answer(answer_to(&seen), NOW);
            }
            Stage::Done(output) => break output,
        }
    };
    let endpoints: Vec<_> = seen.iter().map(|r| r.endpoint).collect();
    use Endpoint::*;
    assert_eq!(endpoints, [Token, Userinfo, Token, Attributes]);
    let bearers: Vec<_> = seen.iter().filter_map(bearer).collect();
    assert_eq!(bearers, ["at-1", "at-2"], "each access token spent once");
    assert_eq!(form(&seen[2])["refresh_token"], "rt-1");
    let SignedIn { session, return_to } = signed_in;
    assert_eq!(
        (session.sub.as_str(), return_to.as_str()),
        ("user-1", "/me")
    );
    assert_eq!(session.access_token.unwrap().secret(), "at-2");
    assert_eq!(session.refresh_token.unwrap().secret(), "rt-2");
    assert_eq!(session.access_expires_at, Some(NOW + 300));
    assert!(session.verification.is_some());
}

#[test]
fn a_refresh_gives_the_new_token_and_keeps_an_unrotated_refresh_token() {
    let (config, meta) = (config(|b| b), meta());
    let start =
        |nonce: Option<&str>| begin_refresh(ctx(&config, &meta, Some(keys("k1", 1))), nonce);
    let (_, waiting) = sent(start(None));
    let Stage::Done(Refreshed {
        tokens: t,
        claims: None,
    }) = waiting.answer(tokens("at-2", None, None), NOW).unwrap()
    else {
        panic!("refreshed")
    };
    assert_eq!(t.access_token.secret(), "at-2");
    assert_eq!(t.refresh_token.unwrap().secret(), "rt-1");

    // An ID token naming someone else ends the refresh.
    let (_, waiting) = sent(start(Some("n-1")));
    let other = id_token("k1", "user-2");
    let e = waiting
        .answer(tokens("at-2", None, Some(&other)), NOW)
        .unwrap_err();
    assert_eq!(e, ProviderMisbehaved::SubMismatchInTokenResponse.into());
}

/// A login at the token response, its ID token signed under `kid`, with `keys` at hand.
fn at_token_response<'a>(
    config: &'a IdmeConfig,
    meta: &'a ProviderMetadata,
    keys: Option<Arc<KeySnapshot>>,
    kid: &str,
) -> (Outbound, Waiting<'a, SignIn>) {
    let (_, waiting) = sent(begin(ctx(config, meta, keys)));
    let answer = tokens("at-1", None, Some(&id_token(kid, "user-1")));
    sent(waiting.answer(answer, NOW))
}

#[test]
fn an_unknown_kid_asks_for_the_key_set_exactly_once() {
    let (config, meta) = (config(|b| b), meta());
    let (request, waiting) = at_token_response(&config, &meta, Some(keys("old", 7)), "new");
    assert_eq!(request.endpoint, Endpoint::Jwks);
    assert_eq!(
        request.request.uri(),
        "https://idp.example/.well-known/jwks"
    );
    assert_eq!(ResponseLimit::of(&request.request), Some(256 * 1024));
    assert_eq!(waiting.wanted(), Some(KeysWanted::Newer(7)));
    // Still not there after the refetch: refused, no second JWKS request.
    let e = waiting.answer(jwks("old"), NOW).unwrap_err();
    assert_eq!(e, ProviderMisbehaved::UnknownSigningKey.into());

    // Published by then: the flow goes on to userinfo.
    let (_, waiting) = at_token_response(&config, &meta, Some(keys("old", 7)), "new");
    let (request, waiting) = sent(waiting.answer(jwks("new"), NOW));
    assert_eq!(request.endpoint, Endpoint::Userinfo);
    assert!(matches!(
        waiting.on,
        On::Response(sign_in::Awaiting::UserData(
            _,
            user_data::Awaiting::Userinfo(..)
        ))
    ));

    // The refetch refused as too soon (the cache's answer): the unknown key is refused.
    let (_, waiting) = at_token_response(&config, &meta, Some(keys("old", 7)), "new");
    assert!(waiting.wanted().is_some(), "waits for keys");
    let e = waiting.refetch_refused(NOW).unwrap_err();
    assert_eq!(e, ProviderMisbehaved::UnknownSigningKey.into());
}

#[test]
fn without_keys_at_hand_the_current_set_is_asked_for_then_one_refetch() {
    let (config, meta) = (config(|b| b), meta());
    let (request, waiting) = at_token_response(&config, &meta, None, "new");
    assert_eq!(request.endpoint, Endpoint::Jwks);
    assert_eq!(waiting.wanted(), Some(KeysWanted::Current));
    let (request, waiting) = sent(waiting.answer(jwks("old"), NOW));
    assert_eq!(request.endpoint, Endpoint::Jwks);
    assert_eq!(waiting.wanted(), Some(KeysWanted::Newer(1)));
    let e = waiting.answer(jwks("old"), NOW).unwrap_err();
    assert_eq!(e, ProviderMisbehaved::UnknownSigningKey.into());
}

#[test]
fn the_id_token_is_judged_at_the_now_the_step_is_told() {
    let (config, meta) = (config(|b| b.user_data(UserDataSource::IdToken)), meta());
    let skew = config.clock_skew.as_secs();
    let answer = || tokens("at-1", None, Some(&id_token("k1", "user-1")));
    let (_, waiting) = sent(begin(ctx(&config, &meta, Some(keys("k1", 1)))));
    let Stage::Done(SignedIn { session, .. }) = waiting.answer(answer(), NOW).unwrap() else {
        panic!("signed in")
    };
    assert_eq!(session.created_at, NOW);
    let (_, waiting) = sent(begin(ctx(&config, &meta, Some(keys("k1", 1)))));
    let late = NOW + 300 + skew + 1;
    let e = waiting.answer(answer(), late).unwrap_err();
    assert_eq!(e, ProviderMisbehaved::Expired.into());
}

/// Runs a `code` login reading userinfo and attributes with no keys at hand (token, JWKS,
/// userinfo, refresh, attributes), answering `bad` to the request number `at`.
fn failure_at(at: usize, bad: HttpResponse) -> Error {
    let (config, meta) = (config(|b| b), meta());
    let good = [
        tokens("at-1", Some("rt-1"), Some(&id_token("k1", "user-1"))),
        jwks("k1"),
        json_answer(200, json!({"sub": "user-1"})),
        tokens("at-2", Some("rt-2"), None),
        answer(200, "application/json", ATTRIBUTES_BODY),
    ];
    let mut bad = Some(bad);
    let mut stage = begin(ctx(&config, &meta, None));
    for (n, good) in good.into_iter().enumerate() {
        let waiting = match stage {
            Err(e) => return e,
            Ok(Stage::Done(output)) => panic!("no failure: {output:?}"),
            Ok(Stage::Asks(_, waiting)) => waiting,
        };
        let response = if n == at { bad.take().unwrap() } else { good };
        stage = waiting.answer(response, NOW);
    }
    match stage {
        Err(e) => e,
        Ok(_) => panic!("a failure"),
    }
}

#[test]
fn an_error_answer_at_each_step_keeps_its_typed_error() {
    let unavailable = |endpoint, status, body: &str| {
        Error::from(ProviderUnavailable::Status {
            endpoint,
            status,
            body: body.into(),
        })
    };
    let rejected = |status| Error::ProviderRejected {
        endpoint: Endpoint::Token,
        status,
        error: "invalid_grant".into(),
        description: Some("used".into()),
    };
    let refused = json!({"error": "invalid_grant", "error_description": "used"});
    let mac = json!({"access_token": "a", "token_type": "mac"});
    let cases: Vec<(usize, HttpResponse, Error)> = vec![
        (0, json_answer(400, refused.clone()), rejected(400)),
        (
            0,
            answer(502, "text/html", "<html>down</html>"),
            unavailable(Endpoint::Token, 502, "<html>down</html>"),
        ),
        (
            0,
            answer(200, "text/html", "<html>"),
            ProviderUnavailable::WrongContentType {
                endpoint: Endpoint::Token,
                content_type: "text/html".into(),
            }
            .into(),
        ),
        (
            0,
            json_answer(200, mac),
            ProviderMisbehaved::UnsupportedTokenType.into(),
        ),
        (
            1,
            answer(503, "application/json", "{}"),
            unavailable(Endpoint::Jwks, 503, "{}"),
        ),
        (
            1,
            json_answer(200, json!({"keys": []})),
            ProviderMisbehaved::MalformedJwks.into(),
        ),
        (
            2,
            answer(401, "application/json", "{}"),
            unavailable(Endpoint::Userinfo, 401, "{}"),
        ),
        (
            2,
            json_answer(200, json!({"sub": "user-2"})),
            ProviderMisbehaved::SubMismatchInUserinfo.into(),
        ),
        (3, json_answer(400, refused), rejected(400)),
        (
            4,
            answer(500, "application/json", "oops"),
            unavailable(Endpoint::Attributes, 500, "oops"),
        ),
        (
            4,
            answer(200, "application/json", "[1]"),
            ProviderMisbehaved::MalformedAttributes.into(),
        ),
    ];
    for (at, bad, expected) in cases {
        assert_eq!(failure_at(at, bad), expected, "request {at}");
    }
}
