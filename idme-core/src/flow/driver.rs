//! The thin async driver of the flow's steps: it sends each request a step asks for
//! through the provider's [`HttpClient`](crate::http_client::HttpClient) (with the
//! engine's timeout, size limits and error typing), answers a key-set request from the
//! provider's cache, and hands the answer back, until the outcome. The steps themselves
//! never await and never read a clock: the driver tells them `now`.

use serde_json::{Map, Value};

use super::refresh::{self, AfterRefresh, Tokens};
use super::replay;
use super::step::{Ctx, Outcome, Step, Waiting};
use crate::error::Error;
use crate::provider::ProviderMetadata;
use crate::secret::{Nonce, RefreshToken};

/// What running a flow needs of the engine: its configuration, its provider (discovery,
/// keys, the HTTP client) and the record of logins already used.
#[derive(Clone, Copy)]
pub(crate) struct Deps<'a> {
    pub(crate) config: &'a crate::config::IdmeConfig,
    pub(crate) provider: &'a crate::provider::Provider,
    pub(crate) used_logins: &'a replay::UsedLogins,
}

/// The plain values a flow starts from: the configuration, the discovery document and the
/// key set the provider has cached (if fresh at `now`).
pub(crate) fn context<'a>(deps: Deps<'a>, meta: &'a ProviderMetadata, now: u64) -> Ctx<'a> {
    Ctx {
        config: deps.config,
        issuer: deps.provider.issuer(),
        meta,
        keys: deps.provider.cached_keys(now),
    }
}

/// Runs `step` to its outcome.
pub(crate) async fn drive(deps: Deps<'_>, mut step: Step<'_>, now: u64) -> Result<Outcome, Error> {
    let provider = deps.provider;
    loop {
        step = match step {
            Step::Done(outcome) => return Ok(outcome),
            Step::Send(request, Waiting::Keys(waiting)) => {
                let keys = provider.keys(waiting.wanted(), *request, now).await?;
                waiting.with_keys(keys, now)?
            }
            Step::Send(request, waiting) => {
                let response = provider.send(request.request, request.endpoint).await?;
                waiting.handle(response, now)?
            }
        };
    }
}

/// A flow ended otherwise than its start says it must.
pub(crate) fn unexpected(outcome: &Outcome) -> Error {
    let kind = match outcome {
        Outcome::SignedIn(..) => "signed in",
        Outcome::Refreshed(..) => "refreshed",
    };
    tracing::error!(target: "idme::flow", kind, "the flow ended with an unexpected outcome");
    Error::ApiMisuse(crate::error::Misuse::UnexpectedFlowState)
}

/// Refreshes with `refresh_token` for the user `sub`. The old refresh token is kept when
/// the provider does not rotate it.
pub(crate) async fn refresh(
    deps: Deps<'_>,
    refresh_token: &RefreshToken,
    sub: &str,
    original_nonce: Option<&str>,
    now: u64,
) -> Result<(Tokens, Option<Map<String, Value>>), Error> {
    let meta = deps.provider.metadata().await?;
    let ctx = context(deps, &meta, now);
    let step = refresh::begin(
        ctx,
        refresh_token.clone(),
        sub.to_owned(),
        original_nonce.map(Nonce::new),
        AfterRefresh::Return,
    )?;
    match drive(deps, step, now).await? {
        Outcome::Refreshed(tokens, claims) => Ok((tokens, claims)),
        other => Err(unexpected(&other)),
    }
}
