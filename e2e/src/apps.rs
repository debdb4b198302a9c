//! Helpers of the app-client suites (devices, native apps and API clients of an example):
//! an RFC 8628 / RFC 6749 client that is not ours (the `oauth2` crate) over reqwest, the
//! person's side of the device flow scripted with a cookie jar, and raw calls to the token
//! endpoints and to bearer-protected routes.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use idme_testkit::browser::{Browser, Page, form_fields};
use oauth2::basic::BasicClient;
use oauth2::{
    AsyncHttpClient, ClientId, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, StandardDeviceAuthorizationResponse, TokenUrl,
};
use serde_json::Value;

/// The device client the examples register by default.
pub const DEVICE_CLIENT: &str = "idme-example-device";
/// Its display name, which the person's pages show.
pub const DEVICE_CLIENT_NAME: &str = "idme example device";
/// The device grant's `grant_type`.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The `oauth2` crate's client with the device authorization and token endpoints set.
pub type DeviceClient =
    BasicClient<EndpointNotSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// reqwest as the `oauth2` crate's HTTP client (no redirects followed).
#[derive(Debug, Clone)]
pub struct OAuthHttp(reqwest::Client);

impl Default for OAuthHttp {
    fn default() -> Self {
        Self(http_client())
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = reqwest::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, reqwest::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.0.execute(request.try_into()?).await?;
            let mut builder = oauth2::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await?.to_vec();
            Ok(builder
                .body(body)
                .expect("a response of parts that came from one"))
        })
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a plain reqwest client builds")
}

/// The `oauth2` crate's device client of `base` for `client_id`.
pub fn device_client(base: &str, client_id: &str) -> DeviceClient {
    BasicClient::new(ClientId::new(client_id.to_owned()))
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(format!("{base}/auth/device/code")).expect("a URL"),
        )
        .set_token_uri(TokenUrl::new(format!("{base}/auth/device/token")).expect("a URL"))
}

/// `POST <base>/auth/device/code` through the `oauth2` crate, for `scope` (policies).
pub async fn device_code(base: &str, scope: &[&str]) -> StandardDeviceAuthorizationResponse {
    let client = device_client(base, DEVICE_CLIENT);
    let mut request = client.exchange_device_code();
    for s in scope {
        request = request.add_scope(oauth2::Scope::new((*s).to_owned()));
    }
    request
        .request_async(&OAuthHttp::default())
        .await
        .unwrap_or_else(|e| panic!("device code at {base}: {e:?}"))
}

/// An answer of the app to a raw request.
#[derive(Debug)]
pub struct Answer {
    /// Its status.
    pub status: u16,
    /// Its headers.
    pub headers: reqwest::header::HeaderMap,
    /// Its body.
    pub body: String,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }

    /// The `error` of a JSON error answer.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }

    /// A header's value, `""` when absent.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Asserts a token-endpoint error: `status`, `error`, and `Cache-Control: no-store`.
    pub fn assert_error(&self, status: u16, error: &str, what: &str) {
        assert_eq!(
            (self.status, self.error().as_str()),
            (status, error),
            "{what}: {}",
            self.body
        );
        assert!(
            self.header("cache-control").contains("no-store"),
            "{what}: {:?}",
            self.headers
        );
    }
}

async fn answer(sent: reqwest::RequestBuilder) -> Answer {
    let response = sent.send().await.expect("the app answers");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap_or_default(),
    }
}

/// `POST <url>` with `form` and extra `headers`, as a client that is not a browser.
pub async fn post(url: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Answer {
    let mut request = http_client().post(url).form(form);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    answer(request).await
}

/// `GET <url>` with `Authorization: <authorization>` (and JSON asked for).
pub async fn get_with(url: &str, authorization: &str) -> Answer {
    let request = http_client()
        .get(url)
        .header("authorization", authorization)
        .header("accept", "application/json");
    answer(request).await
}

/// `GET <url>` with `Authorization: Bearer <token>`.
pub async fn get_bearer(url: &str, token: &str) -> Answer {
    get_with(url, &format!("Bearer {token}")).await
}

/// Asserts the RFC 6750 refusal of a bad, expired or revoked bearer token.
pub fn assert_invalid_token(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 401, "{what}: {}", answer.body);
    let challenge = answer.header("www-authenticate");
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""),
        "{what}: WWW-Authenticate {challenge:?}"
    );
    assert_eq!(answer.error(), "invalid_token", "{what}: {}", answer.body);
}

/// Asserts that `token` is refused at `url` within a second: an instance reuses a bearer
/// user it authenticated for up to 500 ms (`session_store_cache`), so a revocation made on
/// another instance takes effect there within that bound.
pub async fn assert_invalid_token_soon(url: &str, token: &str, what: &str) {
    let since = std::time::Instant::now();
    loop {
        let answer = get_bearer(url, token).await;
        if answer.status != 200 {
            return assert_invalid_token(&answer, what);
        }
        assert!(
            since.elapsed() < std::time::Duration::from_secs(1),
            "{what}: still accepted a second later"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// One poll of the device token endpoint at `path` (`/auth/device/token` or `/auth/token`).
pub async fn poll(base: &str, path: &str, device_code: &str, client_id: &str) -> Answer {
    post(
        &format!("{base}{path}"),
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ],
        &[],
    )
    .await
}

/// `grant_type=refresh_token` at `<base>/auth/token`.
pub async fn refresh(base: &str, refresh_token: &str) -> Answer {
    post(
        &format!("{base}/auth/token"),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", DEVICE_CLIENT),
        ],
        &[],
    )
    .await
}

/// `POST <base>/auth/revoke` for `token`.
pub async fn revoke(base: &str, token: &str) -> Answer {
    post(
        &format!("{base}/auth/revoke"),
        &[("token", token), ("client_id", DEVICE_CLIENT)],
        &[],
    )
    .await
}

/// The person opens `verification_uri_complete` (signing in with ID.me first when they
/// are not) and lands on the confirmation page, which is returned (200, with its form).
pub async fn confirmation_page(person: &Browser, verification_uri_complete: &str) -> Page {
    let first = person.get(verification_uri_complete).await;
    let page = person.navigate(first, None).await;
    assert_eq!(page.status, 200, "the confirmation page: {}", page.body);
    assert!(
        page.body.contains("name=\"csrf\"") && page.body.contains("value=\"allow\""),
        "a form with the CSRF token and allow/deny: {}",
        page.body
    );
    page
}

/// The confirmation form's fields (`user_code`, `csrf`) plus `decision`.
pub fn decision_form(page: &Page, decision: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = form_fields(&page.body)
        .into_iter()
        .filter(|(k, _)| k == "user_code" || k == "csrf")
        .collect();
    fields.push(("decision".into(), decision.into()));
    fields
}

/// The person opens the complete URL and answers `decision` (`allow` or `deny`): the page
/// the app answers the form with.
pub async fn person_decides(
    person: &Browser,
    base: &str,
    verification_uri_complete: &str,
    decision: &str,
) -> Page {
    let page = confirmation_page(person, verification_uri_complete).await;
    let form = decision_form(&page, decision);
    person
        .post_form(&format!("{base}/auth/device"), &form)
        .await
}

/// The consent form's fields of `/auth/authorize` (`request`, `csrf`) plus `decision`.
pub fn consent_form(page: &Page, decision: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = form_fields(&page.body)
        .into_iter()
        .filter(|(k, _)| k == "request" || k == "csrf")
        .collect();
    fields.push(("decision".into(), decision.into()));
    fields
}

/// The person answers the consent page `page` with `decision` (`allow` or `deny`) from
/// the app's own page, then their browser follows the answer (to the app's redirect).
pub async fn person_consents(person: &Browser, base: &str, page: &Page, decision: &str) -> Page {
    let answer = person
        .post_form(
            &format!("{base}/auth/authorize"),
            &consent_form(page, decision),
        )
        .await;
    person.navigate(answer, None).await
}

/// The tokens of one grant.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The access token.
    pub access: String,
    /// The refresh token.
    pub refresh: String,
    /// The whole token response.
    pub response: Value,
}

impl Tokens {
    /// The tokens of a 200 token response.
    pub fn of(answer: &Answer) -> Tokens {
        assert_eq!(answer.status, 200, "a token response: {}", answer.body);
        let json = answer.json();
        let field = |k: &str| {
            json[k]
                .as_str()
                .unwrap_or_else(|| panic!("no {k} in {}", answer.body))
                .to_owned()
        };
        Tokens {
            access: field("access_token"),
            refresh: field("refresh_token"),
            response: json,
        }
    }
}

/// A grant for the person in `person` (signing in first when needed): a device code,
/// allowed by the person, then one poll.
pub async fn device_tokens(base: &str, person: &Browser, scope: &[&str]) -> Tokens {
    let details = device_code(base, scope).await;
    let complete = details
        .verification_uri_complete()
        .expect("verification_uri_complete")
        .secret()
        .clone();
    let done = person_decides(person, base, &complete, "allow").await;
    assert_eq!(done.status, 200, "allowed: {}", done.body);
    let answer = poll(
        base,
        "/auth/device/token",
        details.device_code().secret(),
        DEVICE_CLIENT,
    )
    .await;
    Tokens::of(&answer)
}

/// Fails if any of `secrets` shows in the app's output so far (naming only which one).
pub fn assert_not_logged(app: &crate::ExampleApp, secrets: &[&str]) {
    let output = app.output();
    for (i, secret) in secrets.iter().enumerate() {
        assert!(
            secret.is_empty() || !output.contains(secret),
            "secret #{i} (of {}) is in the app's log {}",
            secrets.len(),
            app.log.display()
        );
    }
}
