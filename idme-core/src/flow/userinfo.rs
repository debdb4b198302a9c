//! The userinfo endpoint, as a leaf flow ([`Userinfo`]): as ID.me answers it (a JSON string
//! holding a signed JWT) or as other providers do (plain JSON). Its `sub` must be the ID
//! token's; a signed one must name the issuer and this client; with a decryption key
//! configured it must be encrypted. It gives the claims.

use serde_json::{Map, Value};

use super::step::{Checked, Ctx, Flow, Next, refetched};
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::http_client::HttpResponse;
use crate::provider::{Outbound, read_body};
use crate::secret::AccessToken;
use crate::validate::jws::{self, KeysWanted};
use crate::validate::signed::{self, Refused};
use crate::validate::userinfo::{UserinfoBody, classify};

/// One userinfo call, made with a login's access token (ID.me's access tokens are
/// single-use: this is the one call made with it). Gives the user's claims.
#[derive(Debug)]
pub(crate) enum Userinfo {}

/// Waiting for the answer; `sub` is the subject it must name.
#[derive(Debug)]
pub(crate) struct Awaiting {
    sub: String,
}

/// A signed answer waiting for the key set.
pub(crate) struct Verifying {
    sub: String,
    jwt: String,
    wanted: KeysWanted,
}

impl std::fmt::Debug for Verifying {
    // Without the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifying")
            .field("wanted", &self.wanted)
            .finish_non_exhaustive()
    }
}

/// Asks `endpoint` with `access_token` for the claims of `sub`.
pub(crate) fn begin(
    endpoint: &str,
    access_token: &AccessToken,
    sub: String,
) -> Result<Next<Userinfo>, Error> {
    let request = Outbound::get(endpoint, Endpoint::Userinfo, Some(access_token.secret()))?;
    Ok(Next::Send(Box::new(request), Awaiting { sub }))
}

impl Flow for Userinfo {
    type Awaiting = Awaiting;
    type Verifying = Verifying;
    type Output = Map<String, Value>;

    /// The userinfo answer: plain JSON, a signed JWT or an encrypted one.
    fn on_response(
        state: Awaiting,
        ctx: &Ctx<'_>,
        response: HttpResponse,
        _now: u64,
    ) -> Result<Next<Self>, Error> {
        let body = read_body(response, Endpoint::Userinfo)?;
        let keys = &ctx.config.decryption_keys;
        match classify(&body)? {
            // With a decryption key configured, userinfo must come encrypted.
            UserinfoBody::Json(_) | UserinfoBody::Jws(_) if !keys.is_empty() => {
                Err(ProviderMisbehaved::NotEncrypted("userinfo").into())
            }
            UserinfoBody::Json(claims) => accept(&state.sub, claims),
            UserinfoBody::Jws(jwt) => verify_signed(ctx, state.sub, jwt, false),
            UserinfoBody::Jwe(jwe) => verify_signed(ctx, state.sub, keys.decrypt(&jwe)?, false),
        }
    }

    fn on_keys(state: Verifying, ctx: &Ctx<'_>, _now: u64) -> Result<Next<Self>, Error> {
        verify_signed(ctx, state.sub, state.jwt, refetched(state.wanted))
    }
}

/// A signed userinfo response: signature, then `iss` equal to the issuer and `aud` naming
/// this client (OIDC Core §5.3.2).
fn verify_signed(
    ctx: &Ctx<'_>,
    sub: String,
    jwt: String,
    refetched: bool,
) -> Result<Next<Userinfo>, Error> {
    let allowed = ctx.allowed();
    let keys = ctx.keys.as_deref();
    let checked = jws::verify_with_snapshot(&jwt, None, &allowed, keys, refetched, |key, alg| {
        jws::verify_signature(&jwt, alg, key)
    })?;
    let claims = match Checked::from(checked) {
        Checked::Verified(v) => v.claims,
        Checked::NeedKeys(wanted) => {
            return Ok(Next::NeedKeys(wanted, Verifying { sub, jwt, wanted }));
        }
    };
    match signed::issuer_and_audience(&claims, ctx.issuer, &ctx.config.client_id) {
        Ok(()) => accept(&sub, claims),
        Err(Refused::Issuer) => Err(ProviderMisbehaved::UserinfoIssuerMismatch.into()),
        Err(Refused::Audience) => Err(ProviderMisbehaved::UserinfoAudienceMismatch.into()),
    }
}

/// Claims whose `sub` is the ID token's.
fn accept(expected: &str, claims: Map<String, Value>) -> Result<Next<Userinfo>, Error> {
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if sub == expected => Ok(Next::Done(claims)),
        Some(_) => Err(ProviderMisbehaved::SubMismatchInUserinfo.into()),
        None => Err(ProviderMisbehaved::MissingClaim("sub").into()),
    }
}
