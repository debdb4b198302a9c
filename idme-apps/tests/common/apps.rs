//! What the app-client tests share: a pair with app clients on, calls of their routes
//! through the engine's route table (as an adapter makes them), and a whole device flow.

use std::time::Duration;

use idme_apps::{AppClient, AppClients, AppServer};
use idme_core::adapter::{GuardRequest, Rejection, RequestAuth, RouteRequest};
use idme_core::{IdmeBuilder, IdmeUser, Reply};
use idme_testkit::Persona;
use idme_testkit::pair::{Browser, PAIR_REDIRECT_URI, Pair};
use serde_json::Value;

/// A device client.
pub(crate) const DEVICE: &str = "tv-app";
/// A native app with a registered private-use redirect URI and loopback ones.
pub(crate) const NATIVE: &str = "native-app";
/// [`NATIVE`]'s registered private-use redirect URI.
pub(crate) const NATIVE_REDIRECT: &str = "com.example.app:/callback";
/// [`NATIVE`]'s registered loopback redirect URIs (any port).
pub(crate) const NATIVE_LOOPBACK: [&str; 2] =
    ["http://127.0.0.1/callback", "http://[::1]/callback"];
/// The device grant's type.
pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The app clients of the tests.
pub(crate) fn clients() -> AppClients {
    let native = NATIVE_LOOPBACK.iter().fold(
        AppClient::new(NATIVE).redirect_uri(NATIVE_REDIRECT),
        |c, uri| c.redirect_uri(*uri),
    );
    AppClients::new([DEVICE]).client(native)
}

/// A pair signing in [`Persona::Veteran`] with app clients on.
pub(crate) async fn rig() -> Pair {
    rig_as(Persona::Veteran, |b| b).await
}

/// A pair signing in `persona`, app clients on, then `configure`.
pub(crate) async fn rig_as(
    persona: Persona,
    configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
) -> Pair {
    rig_with(persona, AppServer::new(clients()), configure).await
}

/// A pair signing in `persona` with `server` registered, then `configure`.
pub(crate) async fn rig_with(
    persona: Persona,
    server: AppServer,
    configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
) -> Pair {
    super::rig_at_with(PAIR_REDIRECT_URI, Some(persona), configure, |e| {
        e.extension(server)
    })
    .await
}

/// The authorization server's routes, as the tests name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    DeviceCode,
    DevicePage,
    DeviceToken,
    Authorize,
    Token,
    Revoke,
    Logout,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Route::DeviceCode => "/auth/device/code",
            Route::DevicePage => "/auth/device",
            Route::DeviceToken => "/auth/device/token",
            Route::Authorize => "/auth/authorize",
            Route::Token => "/auth/token",
            Route::Revoke => "/auth/revoke",
            Route::Logout => "/auth/logout",
        }
    }

    /// The engine's route at this path, as an adapter mounts it.
    fn mounted(self, pair: &Pair) -> idme_core::adapter::Route {
        idme_core::adapter::Route::all(&pair.idme)
            .into_iter()
            .find(|r| r.path(&pair.idme) == self.path())
            .unwrap_or_else(|| panic!("{} is not mounted", self.path()))
    }
}

/// One call of `route`, as an adapter makes it; `browser` keeps the cookies set.
pub(crate) async fn call(
    pair: &Pair,
    route: Route,
    post: bool,
    query: Option<&str>,
    body: &str,
    headers: &[(&str, &str)],
    browser: Option<&mut Browser>,
) -> Reply {
    let header = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let cookies = browser.as_ref().map(|b| b.cookies()).unwrap_or_default();
    let req = RouteRequest {
        post,
        query,
        header: &header,
        cookies,
        body: body.as_bytes(),
        // Tests name the peer with a pseudo-header.
        remote_addr: header("x-remote-addr").and_then(|a| a.parse().ok()),
    };
    let reply = route.mounted(pair).answer(&pair.idme, req).await;
    if let Some(browser) = browser {
        browser.apply(&reply.set_cookies);
    }
    reply
}

/// A `GET /auth/authorize?query` from `browser` (which keeps the cookies set).
pub(crate) async fn authorize(pair: &Pair, browser: &mut Browser, query: &str) -> Reply {
    call(
        pair,
        Route::Authorize,
        false,
        Some(query),
        "",
        &[],
        Some(browser),
    )
    .await
}

/// A form `POST` of `body` to `route`, without cookies.
pub(crate) async fn post(pair: &Pair, route: Route, body: &str) -> Reply {
    call(pair, route, true, None, body, &[], None).await
}

/// A reply's JSON body.
pub(crate) fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("JSON ({e}): {}", reply.body))
}

/// The OAuth error of a reply: its status and `error`.
pub(crate) fn error(reply: &Reply) -> (u16, String) {
    let body = json(reply);
    assert!(body["error_description"].is_string(), "{body}");
    (
        reply.status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A form body of `pairs`.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A device's request for codes by `client` (asserted `200`).
pub(crate) async fn device_code(pair: &Pair, client: &str, scope: Option<&str>) -> Value {
    let mut pairs = vec![("client_id", client)];
    pairs.extend(scope.map(|s| ("scope", s)));
    let reply = post(pair, Route::DeviceCode, &form(&pairs)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    json(&reply)
}

/// A device's poll.
pub(crate) async fn poll(pair: &Pair, client: &str, device_code: &str) -> Reply {
    let body = form(&[
        ("grant_type", DEVICE_GRANT),
        ("device_code", device_code),
        ("client_id", client),
    ]);
    post(pair, Route::DeviceToken, &body).await
}

/// The person's `GET /auth/device` with `query`.
pub(crate) async fn page(pair: &Pair, browser: &mut Browser, query: Option<&str>) -> Reply {
    call(
        pair,
        Route::DevicePage,
        false,
        query,
        "",
        &[],
        Some(browser),
    )
    .await
}

/// The person's page for `user_code`.
pub(crate) async fn page_for(pair: &Pair, browser: &mut Browser, user_code: &str) -> Reply {
    let query = form(&[("user_code", user_code)]);
    page(pair, browser, Some(&query)).await
}

/// The value of the form field `name` in an HTML page.
pub(crate) fn field(body: &str, name: &str) -> Option<String> {
    let at = body.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &body[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].replace("&amp;", "&"))
}

/// The person's same-origin `POST /auth/device` of `fields`.
pub(crate) async fn decide_with(
    pair: &Pair,
    browser: &mut Browser,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Reply {
    call(
        pair,
        Route::DevicePage,
        true,
        None,
        &form(fields),
        headers,
        Some(browser),
    )
    .await
}

/// The person answers a confirmation page with `decision`, from the app's origin.
pub(crate) async fn decide(
    pair: &Pair,
    browser: &mut Browser,
    page: &Reply,
    decision: &str,
) -> Reply {
    let code = field(&page.body, "user_code").expect("the page holds the user code");
    let csrf = field(&page.body, "csrf").expect("the page holds a CSRF token");
    let origin = pair.origin();
    let headers = [
        ("origin", origin.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    let fields = [
        ("user_code", code.as_str()),
        ("csrf", csrf.as_str()),
        ("decision", decision),
    ];
    decide_with(pair, browser, &fields, &headers).await
}

/// The person answers the consent page `page` of `/auth/authorize` with `decision`
/// (`allow` or `deny`), from the app's own site.
pub(crate) async fn consent(
    pair: &Pair,
    browser: &mut Browser,
    page: &Reply,
    decision: &str,
) -> Reply {
    assert_eq!(page.status, 200, "a consent page: {}", page.body);
    let request = field(&page.body, "request").expect("the page holds the request");
    let csrf = field(&page.body, "csrf").expect("the page holds a CSRF token");
    let fields = [
        ("request", request.as_str()),
        ("csrf", csrf.as_str()),
        ("decision", decision),
    ];
    call(
        pair,
        Route::Authorize,
        true,
        None,
        &form(&fields),
        &[("sec-fetch-site", "same-origin")],
        Some(browser),
    )
    .await
}

/// A whole device flow for `client` asking `scope`: the person (signed in on the web)
/// allows it, the device polls after the interval. The person's browser and the token
/// response.
pub(crate) async fn approved(pair: &Pair, client: &str, scope: Option<&str>) -> (Browser, Value) {
    let codes = device_code(pair, client, scope).await;
    let mut browser = pair.sign_in().await;
    let user_code = codes["user_code"].as_str().unwrap();
    let confirm = page_for(pair, &mut browser, user_code).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let done = decide(pair, &mut browser, &confirm, "allow").await;
    assert_eq!(done.status, 200, "{}", done.body);
    pair.advance(Duration::from_secs(5));
    let tokens = poll(pair, client, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    (browser, json(&tokens))
}

/// A refresh by `client`.
pub(crate) async fn refresh(pair: &Pair, client: &str, token: &str) -> Reply {
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", client),
    ]);
    post(pair, Route::Token, &body).await
}

/// The user of a request with `Authorization: <authorization>` to `/me`, through the
/// adapter glue, as `Option<IdmeUser>` when `optional`.
pub(crate) async fn guard(
    pair: &Pair,
    authorization: Option<&str>,
    browser: Option<&Browser>,
) -> Result<IdmeUser, Rejection> {
    let request = GuardRequest {
        idme: Some(&pair.idme),
        setup: "test",
        accept: Some("application/json"),
        path_and_query: "/me",
        authorization,
        method: "GET",
        provenance: Default::default(),
        sec_fetch_mode: None,
    };
    let cookies = browser.map(Browser::cookies).unwrap_or_default();
    RequestAuth::new().user(&request, move || cookies).await
}

/// [`guard`] with `Authorization: Bearer <token>`.
pub(crate) async fn bearer(pair: &Pair, token: &str) -> Result<IdmeUser, Rejection> {
    guard(pair, Some(&format!("Bearer {token}")), None).await
}

/// Asserts the `401` of a refused bearer token.
pub(crate) fn assert_invalid_token(rejection: &Rejection) {
    assert_eq!(rejection.status, 401);
    assert_eq!(rejection.reply.status, 401);
    let challenge = rejection
        .reply
        .header("www-authenticate")
        .expect("a challenge");
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(json(&rejection.reply)["error"], "invalid_token");
    assert!(
        matches!(
            rejection.reason(),
            idme_core::adapter::RejectionReason::InvalidBearer(idme_core::Error::Unauthenticated(
                idme_core::Unauthenticated::InvalidToken
            ))
        ),
        "{rejection:?}"
    );
}

/// Asserts that `token` is refused by `pair`'s engine within a second of real time: an
/// engine reuses a bearer user it authenticated for up to its `session_store_cache`
/// (500 ms by default), so a revocation made through another engine takes effect there
/// within that bound.
pub(crate) async fn assert_refused_soon(pair: &Pair, token: &str) {
    let since = std::time::Instant::now();
    loop {
        match bearer(pair, token).await {
            Err(rejection) => return assert_invalid_token(&rejection),
            Ok(_) => assert!(
                since.elapsed() < std::time::Duration::from_secs(1),
                "still accepted a second after its revocation elsewhere"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Where `reply` sends the browser, as a path and query.
pub(crate) fn location(reply: &Reply) -> String {
    let to = reply.header("location").unwrap_or_else(|| {
        panic!("a redirect: {} {}", reply.status, reply.body);
    });
    to.to_owned()
}

/// The person's browser taking the engine's verify URL `verify` (its login route asking
/// for a policy) through the emulator and back: the callback's answer, a `303` to the
/// verify URL's `return_to`.
pub(crate) async fn go_verify(pair: &Pair, browser: Browser, verify: &str) -> (Browser, Reply) {
    let (path, query) = verify.split_once('?').unwrap_or((verify, ""));
    assert_eq!(
        path, "/auth/login",
        "the verify URL is the login route: {verify}"
    );
    let options = idme_core::LoginOptions::from_query(Some(query));
    let attempt = pair.attempt_in(browser, &options).await;
    assert_eq!(attempt.reply.status, 303, "{}", attempt.reply.body);
    (attempt.browser, attempt.reply)
}
