//! The refresh-token grant (RFC 6749 §6, OIDC Core §12) as a flow ([`Refresh`]): a new
//! access token, a rotated refresh token when the provider sends one, and — if an ID token
//! comes back — the OIDC rules for it: same `iss`, `sub` and `aud`, and a `nonce` only if
//! it equals the original. It is the whole of a session refresh, and a part of a sign-in
//! that reads both userinfo and `attributes.json`.

use serde_json::{Map, Value};

use super::step::{Checked, Ctx, Flow, Next, Tokens, refetched, unwrap_token};
use super::token::{self, TokenResponse};
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::http_client::HttpResponse;
use crate::provider::Outbound;
use crate::secret::{Nonce, RefreshToken};
use crate::validate::id_token::Expectations;
use crate::validate::jws::KeysWanted;

/// One refresh grant. Gives [`Refreshed`].
#[derive(Debug)]
pub(crate) enum Refresh {}

/// What a refresh gives: the new tokens (the old refresh token kept when the provider does
/// not rotate it), and the claims of the ID token that came with them.
#[derive(Debug)]
pub(crate) struct Refreshed {
    pub(crate) tokens: Tokens,
    pub(crate) claims: Option<Map<String, Value>>,
}

/// A refresh under way, waiting for the token endpoint.
#[derive(Debug)]
pub(crate) struct Awaiting {
    refresh_token: RefreshToken,
    sub: String,
    original_nonce: Option<Nonce>,
}

/// The refreshed ID token `jwt` waiting for the key set.
pub(crate) struct Verifying {
    refreshing: Awaiting,
    response: Box<TokenResponse>,
    jwt: String,
    wanted: KeysWanted,
}

impl std::fmt::Debug for Verifying {
    // Without the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifying")
            .field("refreshing", &self.refreshing)
            .field("wanted", &self.wanted)
            .finish_non_exhaustive()
    }
}

/// Starts a refresh with `refresh_token` for the user `sub`: the token request.
pub(crate) fn begin(
    ctx: &Ctx<'_>,
    refresh_token: RefreshToken,
    sub: String,
    original_nonce: Option<Nonce>,
) -> Result<Next<Refresh>, Error> {
    let request = token::request(
        ctx.config,
        &ctx.meta.token_endpoint,
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
        ],
    )?;
    Ok(Next::Send(
        Box::new(Outbound::new(request, Endpoint::Token)),
        Awaiting {
            refresh_token,
            sub,
            original_nonce,
        },
    ))
}

impl Flow for Refresh {
    type Awaiting = Awaiting;
    type Verifying = Verifying;
    type Output = Refreshed;

    /// The token endpoint's answer, and its ID token if one came.
    fn on_response(
        state: Awaiting,
        ctx: &Ctx<'_>,
        response: HttpResponse,
        now: u64,
    ) -> Result<Next<Self>, Error> {
        let response = token::read_response(response)?;
        match &response.id_token {
            Some(jwt) => {
                let jwt = unwrap_token(ctx.config, jwt.secret())?.into_owned();
                verify_id_token(ctx, state, Box::new(response), jwt, false, now)
            }
            None => Ok(refreshed(state, response, None, now)),
        }
    }

    fn on_keys(state: Verifying, ctx: &Ctx<'_>, now: u64) -> Result<Next<Self>, Error> {
        let Verifying {
            refreshing,
            response,
            jwt,
            wanted,
        } = state;
        verify_id_token(ctx, refreshing, response, jwt, refetched(wanted), now)
    }
}

/// Verifies the refreshed ID token `jwt` (decrypted): same issuer, audience and subject,
/// and the original nonce if it carries one.
fn verify_id_token(
    ctx: &Ctx<'_>,
    refreshing: Awaiting,
    response: Box<TokenResponse>,
    jwt: String,
    refetched: bool,
    now: u64,
) -> Result<Next<Refresh>, Error> {
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
        acr_required: false,
        now,
        skew: ctx.config.clock_skew.as_secs(),
    };
    match token::verify_id_token(ctx, &jwt, &e, refetched)? {
        Checked::Verified(verified) => {
            if verified.sub != refreshing.sub {
                return Err(ProviderMisbehaved::SubMismatchInTokenResponse.into());
            }
            Ok(refreshed(refreshing, *response, Some(verified.claims), now))
        }
        Checked::NeedKeys(wanted) => Ok(Next::NeedKeys(
            wanted,
            Verifying {
                refreshing,
                response,
                jwt,
                wanted,
            },
        )),
    }
}

/// The new tokens; the old refresh token is kept when the provider does not rotate it.
fn refreshed(
    refreshing: Awaiting,
    response: TokenResponse,
    claims: Option<Map<String, Value>>,
    now: u64,
) -> Next<Refresh> {
    let mut tokens = response.tokens(now);
    tokens.refresh_token = tokens.refresh_token.or(Some(refreshing.refresh_token));
    Next::Done(Refreshed { tokens, claims })
}
