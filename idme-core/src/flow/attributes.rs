//! ID.me's `attributes.json`, as a leaf flow ([`Attributes`]): the user's attributes and
//! verification status, read with one access token. Also where ID.me's other public API
//! endpoints are, beside an ID.me-shaped userinfo endpoint.

use std::convert::Infallible;

use super::step::{Ctx, Flow, Next};
use crate::config::IdmeConfig;
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::http_client::HttpResponse;
use crate::provider::{Outbound, ProviderMetadata, read_body};
use crate::secret::AccessToken;
use crate::verification::Verification;

/// Another endpoint of ID.me's public API (`attributes.json`, `policies`), beside an
/// ID.me-shaped userinfo endpoint (`…/api/public/v3/userinfo`). Other providers have none.
pub(crate) fn idme_api_url(meta: &ProviderMetadata, name: &str) -> Option<String> {
    meta.userinfo_endpoint
        .as_deref()
        .and_then(|u| u.strip_suffix("/api/public/v3/userinfo"))
        .map(|base| format!("{base}/api/public/v3/{name}"))
}

/// ID.me's `attributes.json`: configured, or beside an ID.me-shaped userinfo endpoint.
pub(crate) fn endpoint(config: &IdmeConfig, meta: &ProviderMetadata) -> Option<String> {
    config
        .attributes_endpoint
        .clone()
        .or_else(|| idme_api_url(meta, "attributes.json"))
}

/// One `attributes.json` call. Gives the verification status.
#[derive(Debug)]
pub(crate) enum Attributes {}

/// Waiting for ID.me's answer.
#[derive(Debug)]
pub(crate) struct Awaiting;

/// Asks `url` with `access_token`.
pub(crate) fn begin(url: &str, access_token: &AccessToken) -> Result<Next<Attributes>, Error> {
    let request = Outbound::get(url, Endpoint::Attributes, Some(access_token.secret()))?;
    Ok(Next::Send(Box::new(request), Awaiting))
}

impl Flow for Attributes {
    type Awaiting = Awaiting;
    /// `attributes.json` is plain JSON: nothing to verify with keys.
    type Verifying = Infallible;
    type Output = Verification;

    fn on_response(
        _: Awaiting,
        _ctx: &Ctx<'_>,
        response: HttpResponse,
        _now: u64,
    ) -> Result<Next<Self>, Error> {
        let body = read_body(response, Endpoint::Attributes)?;
        let verification = Verification::from_attributes_json(&body).map_err(|e| {
            tracing::warn!(target: "idme::flow", error = %e, "attributes.json does not parse");
            ProviderMisbehaved::MalformedAttributes
        })?;
        Ok(Next::Done(verification))
    }

    fn on_keys(state: Infallible, _ctx: &Ctx<'_>, _now: u64) -> Result<Next<Self>, Error> {
        match state {}
    }
}
