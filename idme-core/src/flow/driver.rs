//! The thin async driver of any [`Flow`]: it sends each request a step asks for through
//! the provider's [`HttpClient`](crate::http_client::HttpClient) (with the engine's
//! timeout, size limits and error typing), gets a key set a step asks for from the
//! provider's cache (or the provider), and hands the answer back, until the flow's
//! output. The steps themselves never await and never read a clock: the driver tells them
//! `now`.

use super::callback::CallbackParams;
use super::keys;
use super::pending::PendingLogin;
use super::refresh::{self, Refresh, Refreshed};
use super::replay;
use super::sign_in::{self, SignIn, SignedIn};
use super::step::{Ctx, Flow, Next};
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

/// Runs a flow from `next` to its output.
pub(crate) async fn drive<F: Flow>(
    deps: Deps<'_>,
    mut ctx: Ctx<'_>,
    mut next: Next<F>,
    now: u64,
) -> Result<F::Output, Error> {
    let provider = deps.provider;
    loop {
        next = match next {
            Next::Done(output) => return Ok(output),
            Next::Send(request, state) => {
                let response = provider.send(request.request, request.endpoint).await?;
                F::on_response(state, &ctx, response, now)?
            }
            Next::NeedKeys(wanted, state) => {
                let request = keys::request(ctx.meta)?;
                keys::put(&mut ctx, provider.keys(wanted, request, now).await?)?;
                F::on_keys(state, &ctx, now)?
            }
        };
    }
}

/// Signs in with the authorization response `params` of the accepted login `pending`.
pub(crate) async fn sign_in(
    deps: Deps<'_>,
    params: &CallbackParams,
    pending: PendingLogin,
    now: u64,
) -> Result<SignedIn, Error> {
    let meta = deps.provider.metadata().await?;
    let ctx = context(deps, &meta, now);
    let next = sign_in::begin(&ctx, params, pending, now)?;
    drive::<SignIn>(deps, ctx, next, now).await
}

/// Refreshes with `refresh_token` for the user `sub`. The old refresh token is kept when
/// the provider does not rotate it.
pub(crate) async fn refresh(
    deps: Deps<'_>,
    refresh_token: &RefreshToken,
    sub: &str,
    original_nonce: Option<&str>,
    now: u64,
) -> Result<Refreshed, Error> {
    let meta = deps.provider.metadata().await?;
    let ctx = context(deps, &meta, now);
    let next = refresh::begin(
        &ctx,
        refresh_token.clone(),
        sub.to_owned(),
        original_nonce.map(Nonce::new),
    )?;
    drive::<Refresh>(deps, ctx, next, now).await
}
