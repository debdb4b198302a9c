//! The provider as the engine sees it: its discovery document and its signing keys, both
//! cached, plus the one helper that performs a bounded HTTP call.

mod discovery;
pub(crate) mod jwks;

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

pub(crate) use discovery::ProviderMetadata;
pub(crate) use jwks::JwksCache;

use crate::error::{Endpoint, Error, ProviderMisbehaved, ProviderUnavailable, truncate_body};
use crate::http_client::{
    HttpClient, HttpClientErrorKind, HttpRequest, HttpResponse, ResponseLimit,
};
use crate::validate::jws::{self, Alg, KeysWanted, VerifiedJws};
use jwks::KeySnapshot;

/// The most body bytes read from an answer of `endpoint`: a key set is a few KB, the
/// other answers (discovery, tokens, userinfo, attributes) far less than a megabyte.
pub(crate) fn response_limit(endpoint: Endpoint) -> usize {
    match endpoint {
        Endpoint::Jwks => 256 * 1024,
        _ => 1024 * 1024,
    }
}

/// The media types a successful answer of `endpoint` may carry: JSON everywhere (OIDC
/// Discovery §4.2, RFC 6749 §5.1, ID.me's API), plus `application/jwk-set+json` for a
/// key set (RFC 7517 §8.5) and `application/jwt` for signed userinfo (OIDC Core §5.3.2;
/// ID.me sends its JWT as a JSON string in `application/json`).
fn accepted_media_types(endpoint: Endpoint) -> &'static [&'static str] {
    match endpoint {
        Endpoint::Jwks => &["application/json", "application/jwk-set+json"],
        Endpoint::Userinfo => &["application/json", "application/jwt"],
        _ => &["application/json"],
    }
}

/// Refuses a successful answer whose `Content-Type` the endpoint's specification does
/// not allow (an HTML error page served with 200, a proxy's login page, …).
pub(crate) fn check_content_type(resp: &HttpResponse, endpoint: Endpoint) -> Result<(), Error> {
    let raw = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let media_type = raw.split(';').next().unwrap_or("").trim();
    if accepted_media_types(endpoint)
        .iter()
        .any(|t| media_type.eq_ignore_ascii_case(t))
    {
        return Ok(());
    }
    Err(ProviderUnavailable::WrongContentType {
        endpoint,
        content_type: raw.chars().take(64).collect(),
    }
    .into())
}

/// A request a step of the flow asks to be sent: the HTTP request, carrying the
/// [`ResponseLimit`] of its endpoint, and the endpoint (for the errors).
pub(crate) struct Outbound {
    pub(crate) request: HttpRequest,
    pub(crate) endpoint: Endpoint,
}

impl std::fmt::Debug for Outbound {
    // Without headers or URI: they may carry a bearer token or a client secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("method", self.request.method())
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Outbound {
    /// `request` to `endpoint`, with the endpoint's [`response_limit`] set.
    pub(crate) fn new(mut request: HttpRequest, endpoint: Endpoint) -> Self {
        request
            .extensions_mut()
            .insert(ResponseLimit::new(response_limit(endpoint)));
        Self { request, endpoint }
    }

    /// A GET of `url` asking for JSON, with `bearer` as the access token if given.
    pub(crate) fn get(url: &str, endpoint: Endpoint, bearer: Option<&str>) -> Result<Self, Error> {
        let mut req = http::Request::get(url).header(http::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req
            .body(Vec::new())
            .map_err(|e| crate::config::ConfigError::endpoint_url(endpoint.as_str(), e))?;
        Ok(Self::new(req, endpoint))
    }
}

/// The body of a 2xx answer of an allowed content type; a failure status is
/// [`ProviderUnavailable::Status`] with the start of the body.
pub(crate) fn read_body(resp: HttpResponse, endpoint: Endpoint) -> Result<Vec<u8>, Error> {
    if !resp.status().is_success() {
        return Err(ProviderUnavailable::Status {
            endpoint,
            status: resp.status().as_u16(),
            body: truncate_body(resp.body()),
        }
        .into());
    }
    check_content_type(&resp, endpoint)?;
    Ok(resp.into_body())
}

/// Discovery, keys and the HTTP client, shared by every login.
pub(crate) struct Provider {
    issuer: String,
    http: Arc<dyn HttpClient>,
    timeout: Duration,
    metadata: tokio::sync::OnceCell<Arc<ProviderMetadata>>,
    jwks: JwksCache,
    /// Where the keys are, when not where discovery says (a security-event transmitter's
    /// JWKS URL, given at registration).
    jwks_url: Option<String>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Provider {
    pub(crate) fn new(
        issuer: String,
        http: Arc<dyn HttpClient>,
        timeout: Duration,
        refetch_interval: Duration,
    ) -> Self {
        Self {
            issuer,
            http,
            timeout,
            metadata: tokio::sync::OnceCell::new(),
            jwks: JwksCache::new(refetch_interval),
            jwks_url: None,
        }
    }

    /// The same, with its keys at `jwks_url` rather than at discovery's `jwks_uri`: a
    /// second key set (the security-event transmitter's), cached and refetched alike.
    pub(crate) fn with_jwks_url(mut self, jwks_url: String) -> Self {
        self.jwks_url = Some(jwks_url);
        self
    }

    /// The GET of the key set: at the configured JWKS URL, else at discovery's.
    async fn jwks_request(&self) -> Result<Outbound, Error> {
        match &self.jwks_url {
            Some(url) => Outbound::get(url, Endpoint::Jwks, None),
            None => Outbound::get(&self.metadata().await?.jwks_uri, Endpoint::Jwks, None),
        }
    }

    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The discovery document, fetched once (concurrent first callers share one fetch; a
    /// failure is not cached, so the next call retries).
    pub(crate) async fn metadata(&self) -> Result<Arc<ProviderMetadata>, Error> {
        self.metadata
            .get_or_try_init(|| async {
                let url = discovery::discovery_url(&self.issuer);
                let body = self.get(&url, Endpoint::Discovery, None).await?;
                let meta = ProviderMetadata::parse(&body, &self.issuer)?;
                tracing::debug!(target: "idme::provider", issuer = %self.issuer, "discovery document loaded");
                Ok(Arc::new(meta))
            })
            .await
            .cloned()
    }

    /// Verifies a compact JWS's signature against the provider's keys (or the client
    /// secret, for an allowed HMAC algorithm) at `now` and returns its claims.
    pub(crate) async fn verify_jws(
        &self,
        token: &str,
        hmac_secret: Option<&[u8]>,
        allowed: &[Alg],
        now: u64,
    ) -> Result<VerifiedJws, Error> {
        let mut keys = self.jwks.fresh(now);
        let mut refetched = false;
        loop {
            let wanted = match jws::verify_with_snapshot(
                token,
                hmac_secret,
                allowed,
                keys.as_deref(),
                refetched,
                |key, alg| jws::verify_signature(token, alg, key),
            )? {
                Ok(verified) => return Ok(verified),
                Err(wanted) => wanted,
            };
            let request = self.jwks_request().await?;
            keys = Some(
                self.keys(wanted, request, now)
                    .await?
                    .ok_or(ProviderMisbehaved::UnknownSigningKey)?,
            );
            refetched = matches!(wanted, KeysWanted::Newer(_));
        }
    }

    /// The cached key set if it is under an hour old at `now`.
    pub(crate) fn cached_keys(&self, now: u64) -> Option<Arc<KeySnapshot>> {
        self.jwks.fresh(now)
    }

    /// The key set `wanted` asks for, fetching it with `request` unless another caller
    /// did (one fetch shared by concurrent callers). `None` when a newer set is wanted but
    /// a refetch happened less than the refetch interval before `now`.
    pub(crate) async fn keys(
        &self,
        wanted: KeysWanted,
        request: Outbound,
        now: u64,
    ) -> Result<Option<Arc<KeySnapshot>>, Error> {
        let fetch = || async {
            let resp = self.send(request.request, request.endpoint).await?;
            jwks::read_jwks(resp)
        };
        match wanted {
            KeysWanted::Current => self.jwks.current(now, fetch).await.map(Some),
            KeysWanted::Newer(generation) => {
                self.jwks
                    .refetch_for_unknown_kid(generation, now, fetch)
                    .await
            }
        }
    }

    /// Loads the key set now (startup check).
    pub(crate) async fn warm_jwks(&self, now: u64) -> Result<(), Error> {
        let meta = self.metadata().await?;
        let request = Outbound::get(&meta.jwks_uri, Endpoint::Jwks, None)?;
        self.keys(KeysWanted::Current, request, now)
            .await
            .map(|_| ())
    }

    /// A GET returning the body of a 2xx answer of an allowed content type.
    pub(crate) async fn get(
        &self,
        url: &str,
        endpoint: Endpoint,
        bearer: Option<&str>,
    ) -> Result<Vec<u8>, Error> {
        let out = Outbound::get(url, endpoint, bearer)?;
        read_body(self.send(out.request, endpoint).await?, endpoint)
    }

    /// Sends a request, bounded by the configured timeout and by the endpoint's
    /// [`response_limit`] whatever the client does, in an `idme.provider_request` span and
    /// timed in `idme_provider_request_duration_seconds`.
    pub(crate) async fn send(
        &self,
        req: HttpRequest,
        endpoint: Endpoint,
    ) -> Result<HttpResponse, Error> {
        let uri = req.uri();
        let span = crate::trace::provider_request(
            endpoint.as_str(),
            req.method().as_str(),
            uri.host().unwrap_or(""),
            uri.path(),
        );
        let started = std::time::Instant::now();
        let result = self
            .send_bounded(req, endpoint)
            .instrument(span.clone())
            .await;
        let elapsed = started.elapsed();
        crate::metrics::provider_request(endpoint.as_str(), elapsed);
        span.record("idme.duration_ms", elapsed.as_secs_f64() * 1000.0);
        match &result {
            Ok(resp) => {
                span.record("http.response.status_code", resp.status().as_u16());
                let failed = !resp.status().is_success();
                span.record("otel.status_code", if failed { "ERROR" } else { "OK" });
            }
            Err(e) => {
                span.record("error.type", error_type(e));
                span.record("otel.status_code", "ERROR");
            }
        }
        result
    }

    async fn send_bounded(
        &self,
        mut req: HttpRequest,
        endpoint: Endpoint,
    ) -> Result<HttpResponse, Error> {
        let limit = response_limit(endpoint);
        req.extensions_mut().insert(ResponseLimit::new(limit));
        let too_large = || Error::from(ProviderUnavailable::TooLarge { endpoint, limit });
        match tokio::time::timeout(self.timeout, self.http.execute(req)).await {
            Err(_) => Err(ProviderUnavailable::Timeout(endpoint).into()),
            Ok(Err(e)) if e.kind == HttpClientErrorKind::Timeout => {
                Err(ProviderUnavailable::Timeout(endpoint).into())
            }
            Ok(Err(e)) if e.kind == HttpClientErrorKind::TooLarge => Err(too_large()),
            Ok(Ok(resp)) if resp.body().len() > limit => Err(too_large()),
            Ok(Err(e)) => Err(ProviderUnavailable::Network {
                endpoint,
                message: e.message,
            }
            .into()),
            Ok(Ok(resp)) => Ok(resp),
        }
    }
}

/// The `error.type` of a failed call: a fixed word, never the error's text.
fn error_type(e: &Error) -> &'static str {
    match e {
        Error::ProviderUnavailable(ProviderUnavailable::Timeout(_)) => "timeout",
        Error::ProviderUnavailable(ProviderUnavailable::TooLarge { .. }) => "too_large",
        Error::ProviderUnavailable(ProviderUnavailable::Network { .. }) => "network",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::http_client::HttpClientError;

    /// A provider whose client answers every request with `len` bytes of `content_type`,
    /// recording the limit the request carried.
    fn provider(len: usize, content_type: &'static str, seen: Arc<Mutex<Vec<usize>>>) -> Provider {
        let client = move |req: HttpRequest| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().extend(ResponseLimit::of(&req));
                Ok::<_, HttpClientError>(
                    http::Response::builder()
                        .header(http::header::CONTENT_TYPE, content_type)
                        .body(vec![b' '; len])
                        .unwrap(),
                )
            }
        };
        Provider::new(
            "https://idp.example".into(),
            Arc::new(client),
            Duration::from_secs(5),
            Duration::from_secs(1),
        )
    }

    #[tokio::test]
    async fn a_custom_client_returning_too_much_is_refused() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let p = provider(1024 * 1024 + 1, "application/json", seen.clone());
        let e = p
            .get("https://idp.example/x", Endpoint::Userinfo, None)
            .await;
        assert_eq!(
            e.unwrap_err(),
            Error::from(ProviderUnavailable::TooLarge {
                endpoint: Endpoint::Userinfo,
                limit: 1024 * 1024
            })
        );
        let p = provider(256 * 1024 + 1, "application/json", seen.clone());
        let e = p
            .get("https://idp.example/j", Endpoint::Jwks, None)
            .await
            .unwrap_err();
        assert_eq!(e.status(), http::StatusCode::BAD_GATEWAY);
        assert_eq!(*seen.lock().unwrap(), [1024 * 1024, 256 * 1024]);
        let p = provider(1024 * 1024, "application/json", seen);
        assert!(
            p.get("https://idp.example/x", Endpoint::Token, None)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn content_types_follow_each_endpoint_spec() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        for (endpoint, content_type, ok) in [
            (Endpoint::Discovery, "application/json", true),
            (Endpoint::Discovery, "text/html", false),
            (Endpoint::Jwks, "application/jwk-set+json", true),
            (Endpoint::Jwks, "application/jwt", false),
            (Endpoint::Userinfo, "application/json; charset=utf-8", true),
            (Endpoint::Userinfo, "Application/JWT", true),
            (Endpoint::Userinfo, "text/plain", false),
            (Endpoint::Attributes, "application/json", true),
            (Endpoint::Attributes, "", false),
        ] {
            let p = provider(2, content_type, seen.clone());
            let got = p.get("https://idp.example/x", endpoint, None).await;
            assert_eq!(got.is_ok(), ok, "{endpoint} {content_type}: {got:?}");
            if let Err(e) = got {
                assert!(
                    matches!(
                        e,
                        Error::ProviderUnavailable(ProviderUnavailable::WrongContentType { .. })
                    ),
                    "{e:?}"
                );
                assert_eq!(e.status(), http::StatusCode::BAD_GATEWAY);
            }
        }
    }
}
