//! Step four: who the user is and what ID.me verified, from userinfo and/or
//! `attributes.json`. ID.me documents access tokens as single-use, so each token is spent
//! on exactly one call; reading both takes a refresh in between.

use serde_json::{Map, Value};

use super::refresh::{self, Tokens};
use super::userinfo;
use crate::config::UserDataSource;
use crate::engine::Inner;
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::provider::ProviderMetadata;
use crate::verification::Verification;

/// What was read about the user.
#[derive(Debug, Default)]
pub(crate) struct UserData {
    pub(crate) userinfo: Option<Map<String, Value>>,
    pub(crate) verification: Option<Verification>,
}

/// Another endpoint of ID.me's public API (`attributes.json`, `policies`), beside an
/// ID.me-shaped userinfo endpoint (`…/api/public/v3/userinfo`). Other providers have none.
pub(crate) fn idme_api_url(meta: &ProviderMetadata, name: &str) -> Option<String> {
    meta.userinfo_endpoint
        .as_deref()
        .and_then(|u| u.strip_suffix("/api/public/v3/userinfo"))
        .map(|base| format!("{base}/api/public/v3/{name}"))
}

/// ID.me's `attributes.json`: configured, or beside an ID.me-shaped userinfo endpoint.
pub(crate) fn attributes_endpoint(inner: &Inner, meta: &ProviderMetadata) -> Option<String> {
    inner
        .config
        .attributes_endpoint
        .clone()
        .or_else(|| idme_api_url(meta, "attributes.json"))
}

/// Reads what the configured source says, spending each access token once. `tokens` is
/// updated when a refresh was needed.
pub(crate) async fn fetch(
    inner: &Inner,
    meta: &ProviderMetadata,
    tokens: &mut Tokens,
    sub: Option<&str>,
    nonce: Option<&str>,
    now: u64,
) -> Result<UserData, Error> {
    let provider = &inner.provider;
    let allowed = inner.allowed_algorithms();
    let attributes_url = attributes_endpoint(inner, meta);
    let source = inner.config.user_data.resolve(
        tokens.refresh_token.is_some(),
        attributes_url.is_some(),
        meta.userinfo_endpoint.is_some(),
    );
    let mut data = UserData::default();
    if matches!(source, UserDataSource::Userinfo | UserDataSource::Both) {
        let (Some(endpoint), Some(sub)) = (meta.userinfo_endpoint.as_deref(), sub) else {
            return Err(Error::config(
                "userinfo needs an ID token (scope `openid`) and a userinfo endpoint",
            ));
        };
        data.userinfo = Some(
            userinfo::fetch(inner, endpoint, tokens.access_token.secret(), sub, &allowed).await?,
        );
    }
    if source == UserDataSource::Both {
        // The first access token is spent: refresh for a second one.
        let Some(rt) = tokens.refresh_token.clone() else {
            return Err(Error::config(
                "reading both userinfo and attributes needs a refresh token",
            ));
        };
        let sub = sub.unwrap_or_default();
        let (fresh, _) = refresh::refresh(inner, &rt, sub, nonce, now).await?;
        *tokens = fresh;
    }
    if matches!(source, UserDataSource::Attributes | UserDataSource::Both) {
        let Some(url) = attributes_url else {
            return Err(Error::config(
                "attributes.json is not available for this provider: set attributes_endpoint or use userinfo",
            ));
        };
        let body = provider
            .get(
                &url,
                Endpoint::Attributes,
                Some(tokens.access_token.secret()),
            )
            .await?;
        let verification = Verification::from_attributes_json(&body).map_err(|e| {
            tracing::warn!(target: "idme::flow", error = %e, "attributes.json does not parse");
            ProviderMisbehaved::MalformedAttributes
        })?;
        data.verification = Some(verification);
    }
    Ok(data)
}
