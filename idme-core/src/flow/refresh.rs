//! The refresh-token grant (RFC 6749 §6, OIDC Core §12): a new access token, a rotated
//! refresh token when the provider sends one, and — if an ID token comes back — the OIDC
//! rules for it: same `iss`, `sub` and `aud`, and a `nonce` only if it equals the original.
//! [`ExpectRefreshedTokens`] waits for the answer; [`refresh`] runs the grant.

use serde_json::{Map, Value};

use super::keys::{self, Resume};
use super::step::{Ctx, Outcome, Step, Waiting, unwrap_token};
use super::token::{self, TokenResponse};
use super::user_data::{self, Reading};
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::http_client::HttpResponse;
use crate::provider::Outbound;
use crate::secret::{AccessToken, Nonce, RefreshToken};
use crate::validate::id_token::Expectations;

/// Tokens of a session.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    pub(crate) access_token: AccessToken,
    pub(crate) refresh_token: Option<RefreshToken>,
    /// Unix seconds.
    pub(crate) access_expires_at: Option<u64>,
}

/// What to do with the refreshed tokens.
#[derive(Debug)]
pub(crate) enum AfterRefresh {
    /// Give them back ([`Outcome::Refreshed`]).
    Return,
    /// Spend the new access token on `attributes.json` (userinfo took the first).
    Attributes(Box<Reading>),
}

/// A refresh under way.
#[derive(Debug)]
pub(crate) struct Refreshing {
    refresh_token: RefreshToken,
    sub: String,
    original_nonce: Option<Nonce>,
    then: AfterRefresh,
}

/// Waits for the refresh grant's token response.
#[derive(Debug)]
pub(crate) struct ExpectRefreshedTokens<'a> {
    ctx: Ctx<'a>,
    refreshing: Box<Refreshing>,
}

/// Starts a refresh with `refresh_token` for the user `sub`: the token request.
pub(crate) fn begin<'a>(
    ctx: Ctx<'a>,
    refresh_token: RefreshToken,
    sub: String,
    original_nonce: Option<Nonce>,
    then: AfterRefresh,
) -> Result<Step<'a>, Error> {
    let request = token::request(
        ctx.config,
        &ctx.meta.token_endpoint,
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
        ],
    )?;
    let refreshing = Box::new(Refreshing {
        refresh_token,
        sub,
        original_nonce,
        then,
    });
    Ok(Step::Send(
        Box::new(Outbound::new(request, Endpoint::Token)),
        Waiting::RefreshedTokens(ExpectRefreshedTokens { ctx, refreshing }),
    ))
}

impl<'a> ExpectRefreshedTokens<'a> {
    /// The token endpoint's answer, and its ID token if one came.
    pub(crate) fn handle(self, response: HttpResponse, now: u64) -> Result<Step<'a>, Error> {
        let Self { ctx, refreshing } = self;
        let response = token::read_response(response)?;
        match &response.id_token {
            Some(jwt) => {
                let jwt = unwrap_token(ctx.config, jwt.secret())?.into_owned();
                verify_id_token(ctx, refreshing, Box::new(response), jwt, false, now)
            }
            None => refreshed(ctx, *refreshing, response, None, now),
        }
    }
}

/// Verifies the refreshed ID token `jwt` (decrypted): same issuer, audience and subject,
/// and the original nonce if it carries one.
pub(crate) fn verify_id_token<'a>(
    ctx: Ctx<'a>,
    refreshing: Box<Refreshing>,
    response: Box<TokenResponse>,
    jwt: String,
    refetched: bool,
    now: u64,
) -> Result<Step<'a>, Error> {
    let allowed = ctx.allowed();
    let e = Expectations {
        issuer: ctx.issuer,
        client_id: &ctx.config.client_id,
        hmac_secret: ctx.hmac_secret(),
        allowed: &allowed,
        nonce: refreshing.original_nonce.as_ref().map(Nonce::secret),
        nonce_may_be_absent: true,
        code: None,
        c_hash_required: false,
        access_token: Some(response.access_token.secret()),
        at_hash_required: false,
        sub: Some(&refreshing.sub),
        max_age: None,
        acr_values: None,
        now,
        skew: ctx.config.clock_skew.as_secs(),
    };
    match token::verify_id_token(&ctx, &jwt, &e, refetched)? {
        Ok(verified) => {
            if verified.sub != refreshing.sub {
                return Err(ProviderMisbehaved::SubMismatchInTokenResponse.into());
            }
            refreshed(ctx, *refreshing, *response, Some(verified.claims), now)
        }
        Err(wanted) => keys::expect(
            ctx,
            wanted,
            jwt,
            Resume::RefreshIdToken(refreshing, response),
        ),
    }
}

/// The new tokens, given back or spent on `attributes.json`; the old refresh token is kept
/// when the provider does not rotate it.
fn refreshed<'a>(
    ctx: Ctx<'a>,
    refreshing: Refreshing,
    response: TokenResponse,
    claims: Option<Map<String, Value>>,
    now: u64,
) -> Result<Step<'a>, Error> {
    let Refreshing {
        refresh_token,
        then,
        ..
    } = refreshing;
    let tokens = Tokens {
        access_expires_at: response.expires_in.map(|s| now.saturating_add(s)),
        access_token: response.access_token,
        refresh_token: response.refresh_token.or(Some(refresh_token)),
    };
    match then {
        AfterRefresh::Return => Ok(Step::Done(Outcome::Refreshed(tokens, claims))),
        AfterRefresh::Attributes(mut reading) => {
            reading.tokens = tokens;
            user_data::attributes(ctx, reading, now)
        }
    }
}
