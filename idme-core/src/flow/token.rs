//! Step three: the token endpoint. Client authentication by `client_secret_basic` or
//! `client_secret_post`; provider errors become typed errors carrying status and body.
//! [`ExpectTokenResponse`] waits for the code exchange's answer and verifies its ID token.

use base64::Engine as _;
use serde::Deserialize;

use super::assurance;
use super::callback_steps::{self, Login};
use super::keys::{self, Resume};
use super::refresh::Tokens;
use super::step::{Ctx, Step, unwrap_token};
use crate::config::{IdmeConfig, TokenAuthMethod};
use crate::error::{Endpoint, Error, ProviderMisbehaved, ProviderUnavailable, truncate_body};
use crate::http_client::{HttpRequest, HttpResponse};
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::validate::id_token::{self, Expectations, VerifiedIdToken};
use crate::validate::jws::{self, KeysWanted};

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
        .map_err(|e| crate::config::ConfigError::endpoint_url("token", e).into())
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

/// Verifies an ID token `jwt` (decrypted) against `e` with the keys at hand: its
/// signature (with the keys and algorithms `e` allows) and its claims, or the key set to
/// fetch first.
pub(crate) fn verify_id_token(
    ctx: &Ctx<'_>,
    jwt: &str,
    e: &Expectations<'_>,
    refetched: bool,
) -> Result<Result<VerifiedIdToken, KeysWanted>, Error> {
    let keys = ctx.keys.as_deref();
    jws::verify_with_snapshot(
        jwt,
        e.hmac_secret,
        e.allowed,
        keys,
        refetched,
        |key, alg| id_token::verify(jwt, key, alg, e),
    )
}

/// Waits for the code exchange's token response.
#[derive(Debug)]
pub(crate) struct ExpectTokenResponse<'a> {
    ctx: Ctx<'a>,
    login: Box<Login>,
}

impl<'a> ExpectTokenResponse<'a> {
    pub(crate) fn new(ctx: Ctx<'a>, login: Box<Login>) -> Self {
        Self { ctx, login }
    }

    /// The token endpoint's answer: the granted scope, then its ID token (required with
    /// `openid` unless the front channel had one).
    pub(crate) fn handle(self, response: HttpResponse, now: u64) -> Result<Step<'a>, Error> {
        let Self { ctx, mut login } = self;
        let response = read_response(response)?;
        assurance::check_granted_scope(&ctx.config.scopes, response.scope.as_deref())?;
        login.latest_id_token = response.id_token.clone();
        match &response.id_token {
            Some(jwt) => {
                let jwt = unwrap_token(ctx.config, jwt.secret())?.into_owned();
                verify_exchanged(ctx, login, Box::new(response), jwt, false, now)
            }
            None if login.sub.is_none() && ctx.config.openid => {
                Err(ProviderMisbehaved::MissingResponseParameter("id_token").into())
            }
            None => exchanged(ctx, login, response, now),
        }
    }
}

/// Verifies the token response's ID token `jwt` (decrypted): the login's expectations,
/// with `at_hash` over the new access token and the front channel's subject, if any.
pub(crate) fn verify_exchanged<'a>(
    ctx: Ctx<'a>,
    mut login: Box<Login>,
    response: Box<TokenResponse>,
    jwt: String,
    refetched: bool,
    now: u64,
) -> Result<Step<'a>, Error> {
    let allowed = ctx.allowed();
    let front = login.expectations(&ctx, &allowed, now);
    let e = Expectations {
        code: None,
        c_hash_required: false,
        access_token: Some(response.access_token.secret()),
        at_hash_required: false,
        sub: login.sub.as_deref(),
        ..front
    };
    match verify_id_token(&ctx, &jwt, &e, refetched)? {
        Ok(verified) => {
            login.sub = Some(verified.sub);
            login.id_claims = Some(verified.claims);
            exchanged(ctx, login, *response, now)
        }
        Err(wanted) => keys::expect(ctx, wanted, jwt, Resume::TokenIdToken(login, response)),
    }
}

/// The code was exchanged: the token response's tokens are the login's.
fn exchanged<'a>(
    ctx: Ctx<'a>,
    mut login: Box<Login>,
    response: TokenResponse,
    now: u64,
) -> Result<Step<'a>, Error> {
    login.tokens = Some(Tokens {
        access_expires_at: response.expires_in.map(|s| now.saturating_add(s)),
        access_token: response.access_token,
        refresh_token: response.refresh_token,
    });
    callback_steps::read_user_data(ctx, login, now)
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
