//! Waiting for the provider's key set: a token named a `kid` the set at hand lacks (or no
//! set is at hand). The step asks for the JWKS; the driver answers from the provider's
//! cache (one fetch shared by concurrent logins, refetches rate-limited) or with the
//! provider's answer, and the verification that asked resumes with the keys.

use std::sync::Arc;

use super::callback_steps::{self, Login};
use super::refresh::{self, Refreshing};
use super::step::{Ctx, Step, Waiting};
use super::token::{self, TokenResponse};
use super::user_data::Reading;
use super::userinfo;
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::http_client::HttpResponse;
use crate::provider::Outbound;
use crate::provider::jwks;
use crate::validate::jws::KeysWanted;
use crate::validate::key_set::KeySnapshot;

/// The verification to resume once the keys are here.
#[derive(Debug)]
pub(crate) enum Resume {
    /// The front-channel ID token of a login.
    FrontIdToken(Box<Login>),
    /// The ID token of the code exchange's token response.
    TokenIdToken(Box<Login>, Box<TokenResponse>),
    /// A signed userinfo response.
    SignedUserinfo(Box<Reading>),
    /// The ID token of a refresh grant's token response.
    RefreshIdToken(Box<Refreshing>, Box<TokenResponse>),
}

/// Waits for the key set `wanted` names, to verify `token` (already decrypted) and go on.
pub(crate) struct ExpectKeys<'a> {
    ctx: Ctx<'a>,
    wanted: KeysWanted,
    token: String,
    resume: Resume,
}

/// Asks for the JWKS before verifying `token` and resuming with `resume`.
pub(crate) fn expect<'a>(
    ctx: Ctx<'a>,
    wanted: KeysWanted,
    token: String,
    resume: Resume,
) -> Result<Step<'a>, Error> {
    let request = Outbound::get(&ctx.meta.jwks_uri, Endpoint::Jwks, None)?;
    Ok(Step::Send(
        Box::new(request),
        Waiting::Keys(ExpectKeys {
            ctx,
            wanted,
            token,
            resume,
        }),
    ))
}

impl std::fmt::Debug for ExpectKeys<'_> {
    // Without the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpectKeys")
            .field("wanted", &self.wanted)
            .field("resume", &self.resume)
            .finish_non_exhaustive()
    }
}

impl<'a> ExpectKeys<'a> {
    /// Which key set is wanted: any current one, or one newer than a generation.
    pub(crate) fn wanted(&self) -> KeysWanted {
        self.wanted
    }

    /// The provider's JWKS answer.
    pub(crate) fn handle(self, response: HttpResponse, now: u64) -> Result<Step<'a>, Error> {
        let generation = match self.wanted {
            KeysWanted::Current => 1,
            KeysWanted::Newer(seen) => seen + 1,
        };
        let keys = KeySnapshot::new(jwks::read_jwks(response)?, generation, now);
        self.with_keys(Some(Arc::new(keys)), now)
    }

    /// Goes on with `keys` (from the provider's cache, or just fetched); `None` when a
    /// refetch was refused as too soon after the last one.
    pub(crate) fn with_keys(
        self,
        keys: Option<Arc<KeySnapshot>>,
        now: u64,
    ) -> Result<Step<'a>, Error> {
        let Some(keys) = keys else {
            return Err(ProviderMisbehaved::UnknownSigningKey.into());
        };
        let ExpectKeys {
            mut ctx,
            wanted,
            token,
            resume,
        } = self;
        ctx.keys = Some(keys);
        // After a refetch for an unknown `kid`, a `kid` still unknown is refused: the
        // keys are fetched once per verification.
        let refetched = matches!(wanted, KeysWanted::Newer(_));
        match resume {
            Resume::FrontIdToken(l) => callback_steps::verify_front(ctx, l, token, refetched, now),
            Resume::TokenIdToken(l, r) => token::verify_exchanged(ctx, l, r, token, refetched, now),
            Resume::SignedUserinfo(r) => userinfo::verify_signed(ctx, r, token, refetched, now),
            Resume::RefreshIdToken(r, t) => {
                refresh::verify_id_token(ctx, r, t, token, refetched, now)
            }
        }
    }
}
