//! Step four: the userinfo endpoint, as ID.me answers it (a JSON string holding a signed
//! JWT) or as other providers do (plain JSON). Its `sub` must be the ID token's; a signed
//! one must name the issuer and this client; with a decryption key configured it must be
//! encrypted. [`ExpectUserinfo`] waits for the answer.

use serde_json::{Map, Value};

use super::keys::{self, Resume};
use super::step::{Ctx, Step};
use super::user_data::{self, Reading};
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::http_client::HttpResponse;
use crate::provider::read_body;
use crate::validate::jws;
use crate::validate::signed::{self, Refused};
use crate::validate::userinfo::{UserinfoBody, classify};

/// Waits for the userinfo answer to the request made with the login's access token (ID.me's
/// access tokens are single-use: this is the one call made with it).
#[derive(Debug)]
pub(crate) struct ExpectUserinfo<'a> {
    ctx: Ctx<'a>,
    reading: Box<Reading>,
}

impl<'a> ExpectUserinfo<'a> {
    pub(crate) fn new(ctx: Ctx<'a>, reading: Box<Reading>) -> Self {
        Self { ctx, reading }
    }

    /// The userinfo answer: plain JSON, a signed JWT or an encrypted one.
    pub(crate) fn handle(self, response: HttpResponse, now: u64) -> Result<Step<'a>, Error> {
        let Self { ctx, reading } = self;
        let body = read_body(response, Endpoint::Userinfo)?;
        let keys = &ctx.config.decryption_keys;
        match classify(&body)? {
            // With a decryption key configured, userinfo must come encrypted.
            UserinfoBody::Json(_) | UserinfoBody::Jws(_) if !keys.is_empty() => {
                Err(ProviderMisbehaved::NotEncrypted("userinfo").into())
            }
            UserinfoBody::Json(claims) => accept(ctx, reading, claims, now),
            UserinfoBody::Jws(jwt) => verify_signed(ctx, reading, jwt, false, now),
            UserinfoBody::Jwe(jwe) => {
                let jwt = keys.decrypt(&jwe)?;
                verify_signed(ctx, reading, jwt, false, now)
            }
        }
    }
}

/// A signed userinfo response: signature, then `iss` equal to the issuer and `aud` naming
/// this client (OIDC Core §5.3.2).
pub(crate) fn verify_signed<'a>(
    ctx: Ctx<'a>,
    reading: Box<Reading>,
    jwt: String,
    refetched: bool,
    now: u64,
) -> Result<Step<'a>, Error> {
    let allowed = ctx.allowed();
    let keys = ctx.keys.as_deref();
    let verified = jws::verify_with_snapshot(&jwt, None, &allowed, keys, refetched, |key, alg| {
        jws::verify_signature(&jwt, alg, key)
    })?;
    let claims = match verified {
        Ok(v) => v.claims,
        Err(wanted) => return keys::expect(ctx, wanted, jwt, Resume::SignedUserinfo(reading)),
    };
    match signed::issuer_and_audience(&claims, ctx.issuer, &ctx.config.client_id) {
        Ok(()) => accept(ctx, reading, claims, now),
        Err(Refused::Issuer) => Err(ProviderMisbehaved::UserinfoIssuerMismatch.into()),
        Err(Refused::Audience) => Err(ProviderMisbehaved::UserinfoAudienceMismatch.into()),
    }
}

/// Claims whose `sub` is the ID token's.
fn accept<'a>(
    ctx: Ctx<'a>,
    mut reading: Box<Reading>,
    claims: Map<String, Value>,
    now: u64,
) -> Result<Step<'a>, Error> {
    let expected = reading.sub.as_deref().unwrap_or_default();
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if sub == expected => {
            reading.data.userinfo = Some(claims);
            user_data::after_userinfo(ctx, reading, now)
        }
        Some(_) => Err(ProviderMisbehaved::SubMismatchInUserinfo.into()),
        None => Err(ProviderMisbehaved::MissingClaim("sub").into()),
    }
}
