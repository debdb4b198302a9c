//! The token endpoint, as a leaf step: the request for a grant (client authentication by
//! `client_secret_basic` or `client_secret_post`), its answer read into a
//! [`TokenResponse`] (provider errors become typed errors carrying status and body), and
//! the signature and claims check of an ID token it carries. The flows (`sign_in`,
//! `refresh`) decide what to do with them.

use base64::Engine as _;
use serde::Deserialize;

use super::step::{Checked, Ctx, Tokens};
use crate::config::{IdmeConfig, TokenAuthMethod};
use crate::error::{Endpoint, Error, ProviderMisbehaved, ProviderUnavailable, truncate_body};
use crate::http_client::{HttpRequest, HttpResponse};
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::validate::id_token::{self, Expectations, VerifiedIdToken};
use crate::validate::jws;

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: AccessToken,
    pub(crate) token_type: String,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
    #[serde(default)]
    pub(crate) refresh_token: Option<RefreshToken>,
    #[serde(default)]
    pub(crate) id_token: Option<IdToken>,
    /// The granted scope, when it differs from the one asked for (RFC 6749 §5.1).
    #[serde(default)]
    pub(crate) scope: Option<String>,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Form-urlencodes a client id or secret for HTTP Basic (RFC 6749 §2.3.1).
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Builds the token request for `grant` (already holding `grant_type` and its parameters).
pub(crate) fn request<'a>(
    config: &'a IdmeConfig,
    token_endpoint: &str,
    mut grant: Vec<(&'a str, &'a str)>,
) -> Result<HttpRequest, Error> {
    let secret = config.client_secret.as_ref();
    let mut builder = http::Request::post(token_endpoint)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json");
    match (config.token_auth, secret) {
        (TokenAuthMethod::ClientSecretBasic, Some(secret)) => {
            let pair = format!(
                "{}:{}",
                form_encode(&config.client_id),
                form_encode(secret.secret())
            );
            let b64 = base64::engine::general_purpose::STANDARD.encode(pair);
            builder = builder.header(http::header::AUTHORIZATION, format!("Basic {b64}"));
        }
        (TokenAuthMethod::ClientSecretPost, Some(secret)) => {
            grant.push(("client_id", &config.client_id));
            grant.push(("client_secret", secret.secret()));
        }
        (TokenAuthMethod::None, _) | (_, None) => grant.push(("client_id", &config.client_id)),
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(grant)
        .finish();
    builder
        .body(body.into_bytes())
        .map_err(|e| Error::config(format!("bad token endpoint URL: {e}")))
}

/// Reads the token endpoint's answer: an OAuth error, a failure status, or a bearer
/// token response.
pub(crate) fn read_response(resp: HttpResponse) -> Result<TokenResponse, Error> {
    let status = resp.status();
    let body = resp.body();
    if !status.is_success() {
        if let Ok(err) = serde_json::from_slice::<OAuthErrorBody>(body) {
            tracing::warn!(
                target: "idme::flow",
                status = status.as_u16(),
                error = %err.error,
                description = ?err.error_description,
                "token endpoint refused"
            );
            return Err(Error::ProviderRejected {
                endpoint: Endpoint::Token,
                status: status.as_u16(),
                error: err.error,
                description: err.error_description,
            });
        }
        return Err(ProviderUnavailable::Status {
            endpoint: Endpoint::Token,
            status: status.as_u16(),
            body: truncate_body(body),
        }
        .into());
    }
    crate::provider::check_content_type(&resp, Endpoint::Token)?;
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        tracing::warn!(target: "idme::flow", error = %e, "token response does not parse");
        ProviderMisbehaved::MalformedTokenResponse
    })?;
    if !parsed.token_type.eq_ignore_ascii_case("bearer") {
        return Err(ProviderMisbehaved::UnsupportedTokenType.into());
    }
    if parsed.access_token.secret().is_empty() {
        return Err(ProviderMisbehaved::MalformedTokenResponse.into());
    }
    Ok(parsed)
}

/// Checks an ID token `jwt` (decrypted) against `e` with the keys at hand: its signature
/// (with the keys and algorithms `e` allows) and its claims, unless a key set is needed
/// first. `refetched` says the keys at hand were just refetched for it.
pub(crate) fn verify_id_token(
    ctx: &Ctx<'_>,
    jwt: &str,
    e: &Expectations<'_>,
    refetched: bool,
) -> Result<Checked<VerifiedIdToken>, Error> {
    let keys = ctx.keys.as_deref();
    let checked = jws::verify_with_snapshot(
        jwt,
        e.hmac_secret,
        e.allowed,
        keys,
        refetched,
        |key, alg| id_token::verify(jwt, key, alg, e),
    )?;
    Ok(checked.into())
}

impl TokenResponse {
    /// The tokens it grants, received at `now`.
    pub(crate) fn tokens(&self, now: u64) -> Tokens {
        Tokens {
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            access_expires_at: self.expires_in.map(|s| now.saturating_add(s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IdmeBuilder;
    use crate::cookies::CookieKeys;

    fn config(auth: TokenAuthMethod) -> IdmeConfig {
        IdmeBuilder::new()
            .client_id("my client")
            .client_secret("s3:cr&t")
            .redirect_uri("https://app.example/cb")
            .token_auth(auth)
            .cookie_keys(CookieKeys::random())
            .build()
            .unwrap()
    }

    #[test]
    fn basic_auth_form_encodes_credentials() {
        let req = request(
            &config(TokenAuthMethod::ClientSecretBasic),
            "https://idp.example/token",
            vec![("grant_type", "authorization_code"), ("code", "c")],
        )
        .unwrap();
        let auth = req.headers()[http::header::AUTHORIZATION].to_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(decoded, b"my+client:s3%3Acr%26t");
        let body = String::from_utf8(req.into_body()).unwrap();
        assert!(!body.contains("client_secret"), "{body}");
    }

    #[test]
    fn post_auth_puts_credentials_in_the_body() {
        let req = request(
            &config(TokenAuthMethod::ClientSecretPost),
            "https://idp.example/token",
            vec![("grant_type", "authorization_code")],
        )
        .unwrap();
        assert!(req.headers().get(http::header::AUTHORIZATION).is_none());
        let body = String::from_utf8(req.into_body()).unwrap();
        assert!(body.contains("client_id=my+client"), "{body}");
        assert!(body.contains("client_secret=s3%3Acr%26t"), "{body}");
    }
}
