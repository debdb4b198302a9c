//! The provider as the engine sees it: its discovery document and its signing keys, both
//! cached, plus the one helper that performs a bounded HTTP call.

mod discovery;
pub(crate) mod jwks;

use std::sync::Arc;
use std::time::Duration;

pub use discovery::ProviderMetadata;
pub(crate) use jwks::{Jwk, JwksCache};

use crate::error::{Endpoint, Error, ProviderMisbehaved, ProviderUnavailable, truncate_body};
use crate::http_client::{HttpClient, HttpClientErrorKind, HttpRequest, HttpResponse};
use crate::validate::jws::{self, JwsError, VerifiedJws};

/// Discovery, keys and the HTTP client, shared by every login.
pub(crate) struct Provider {
    issuer: String,
    http: Arc<dyn HttpClient>,
    timeout: Duration,
    metadata: tokio::sync::OnceCell<Arc<ProviderMetadata>>,
    jwks: JwksCache,
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

    /// Verifies a compact JWS against the provider's keys. An unknown `kid` triggers one
    /// JWKS refetch, shared by all concurrent callers and rate-limited.
    pub(crate) async fn verify_jws(
        &self,
        token: &str,
        hmac_secret: Option<&[u8]>,
        allowed: &[jsonwebtoken::Algorithm],
    ) -> Result<VerifiedJws, Error> {
        let header = jws::parse_header(token)?;
        let alg = jws::check_alg(&header, allowed)?;
        if let Some(secret) = hmac_secret.filter(|_| jws::is_hmac(alg)) {
            return Ok(jws::verify_hmac(token, alg, secret)?);
        }
        let snapshot = self.jwks.current(self).await?;
        match jws::verify_with_keys(token, &header, alg, &snapshot.keys) {
            Err(JwsError::UnknownKid) => {
                tracing::info!(target: "idme::provider", kid = ?header.kid, "unknown kid: refetching the JWKS");
                let Some(fresh) = self
                    .jwks
                    .refetch_for_unknown_kid(self, snapshot.generation)
                    .await?
                else {
                    return Err(ProviderMisbehaved::UnknownSigningKey.into());
                };
                jws::verify_with_keys(token, &header, alg, &fresh.keys).map_err(Into::into)
            }
            other => other.map_err(Into::into),
        }
    }

    /// Loads the key set now (startup check).
    pub(crate) async fn warm_jwks(&self) -> Result<(), Error> {
        self.jwks.current(self).await.map(|_| ())
    }

    pub(crate) async fn fetch_jwks(&self) -> Result<Vec<Jwk>, Error> {
        let meta = self.metadata().await?;
        let body = self.get(&meta.jwks_uri, Endpoint::Jwks, None).await?;
        jwks::parse_jwks(&body)
    }

    /// A GET returning the body of a 2xx answer.
    pub(crate) async fn get(
        &self,
        url: &str,
        endpoint: Endpoint,
        bearer: Option<&str>,
    ) -> Result<Vec<u8>, Error> {
        let mut req = http::Request::get(url).header(http::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req
            .body(Vec::new())
            .map_err(|e| Error::config(format!("bad {endpoint} URL: {e}")))?;
        let resp = self.send(req, endpoint).await?;
        if !resp.status().is_success() {
            return Err(ProviderUnavailable::Status {
                endpoint,
                status: resp.status().as_u16(),
                body: truncate_body(resp.body()),
            }
            .into());
        }
        Ok(resp.into_body())
    }

    /// Sends a request, bounded by the configured timeout whatever the client does.
    pub(crate) async fn send(
        &self,
        req: HttpRequest,
        endpoint: Endpoint,
    ) -> Result<HttpResponse, Error> {
        match tokio::time::timeout(self.timeout, self.http.execute(req)).await {
            Err(_) => Err(ProviderUnavailable::Timeout(endpoint).into()),
            Ok(Err(e)) if e.kind == HttpClientErrorKind::Timeout => {
                Err(ProviderUnavailable::Timeout(endpoint).into())
            }
            Ok(Err(e)) => Err(ProviderUnavailable::Network {
                endpoint,
                message: e.message,
            }
            .into()),
            Ok(Ok(resp)) => Ok(resp),
        }
    }
}
