//! The refresh-token grant (RFC 6749 §6, OIDC Core §12): a new access token, a rotated
//! refresh token when the provider sends one, and — if an ID token comes back — the OIDC
//! rules for it: same `iss`, `sub` and `aud`, and a `nonce` only if it equals the original.

use serde_json::{Map, Value};

use super::token;
use crate::engine::Inner;
use crate::error::{Error, ProviderMisbehaved};
use crate::secret::{AccessToken, RefreshToken};
use crate::validate::id_token::Expectations;

/// Tokens of a session.
#[derive(Debug)]
pub(crate) struct Tokens {
    pub(crate) access_token: AccessToken,
    pub(crate) refresh_token: Option<RefreshToken>,
    /// Unix seconds.
    pub(crate) access_expires_at: Option<u64>,
}

/// Refreshes with `refresh_token` for the user `sub`. The old refresh token is kept when
/// the provider does not rotate it.
pub(crate) async fn refresh(
    inner: &Inner,
    refresh_token: &RefreshToken,
    sub: &str,
    original_nonce: Option<&str>,
    now: u64,
) -> Result<(Tokens, Option<Map<String, Value>>), Error> {
    let config = &inner.config;
    let provider = &inner.provider;
    let meta = provider.metadata().await?;
    let req = token::request(
        config,
        &meta.token_endpoint,
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
        ],
    )?;
    let tokens = token::call(provider, req).await?;
    let mut claims = None;
    if let Some(jwt) = &tokens.id_token {
        let allowed = inner.allowed_algorithms();
        let e = Expectations {
            issuer: provider.issuer(),
            client_id: &config.client_id,
            hmac_secret: inner.hmac_secret(),
            allowed: &allowed,
            nonce: original_nonce,
            nonce_may_be_absent: true,
            code: None,
            c_hash_required: false,
            access_token: Some(tokens.access_token.secret()),
            at_hash_required: false,
            sub: Some(sub),
            max_age: None,
            acr_values: None,
            now,
            skew: config.clock_skew.as_secs(),
        };
        let verified = token::verify_id_token(inner, jwt.secret(), &e).await?;
        if verified.sub != sub {
            return Err(ProviderMisbehaved::SubMismatchInTokenResponse.into());
        }
        claims = Some(verified.claims);
    }
    Ok((
        Tokens {
            access_expires_at: tokens.expires_in.map(|s| now + s),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.or_else(|| Some(refresh_token.clone())),
        },
        claims,
    ))
}
