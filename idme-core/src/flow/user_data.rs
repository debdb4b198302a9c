//! Step four: who the user is and what ID.me verified, from userinfo and/or
//! `attributes.json`. ID.me documents access tokens as single-use, so each token is spent
//! on exactly one call; reading both takes a refresh in between. [`ExpectAttributes`]
//! waits for `attributes.json`; userinfo is `userinfo`'s.

use serde_json::{Map, Value};

use super::callback_steps::{self, Login};
use super::refresh::{self, AfterRefresh, Tokens};
use super::step::{Ctx, Step, Waiting};
use super::userinfo::ExpectUserinfo;
use crate::config::{ConfigError, IdmeConfig, UserDataSource};
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::http_client::HttpResponse;
use crate::provider::{Outbound, ProviderMetadata, read_body};
use crate::secret::Nonce;
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
pub(crate) fn attributes_endpoint(config: &IdmeConfig, meta: &ProviderMetadata) -> Option<String> {
    config
        .attributes_endpoint
        .clone()
        .or_else(|| idme_api_url(meta, "attributes.json"))
}

/// Where the data goes once read: the login it is for.
#[derive(Debug)]
pub(crate) enum Then {
    /// Make this login's session with it.
    Login(Box<Login>),
}

/// A read of the user's data under way.
#[derive(Debug)]
pub(crate) struct Reading {
    /// The tokens; the access token is spent by the next call.
    pub(crate) tokens: Tokens,
    /// The ID token's subject, which userinfo must name.
    pub(crate) sub: Option<String>,
    nonce: Option<Nonce>,
    source: UserDataSource,
    attributes_url: Option<String>,
    pub(crate) data: UserData,
    then: Then,
}

/// Starts reading what the configured source says, spending each access token once.
pub(crate) fn begin<'a>(
    ctx: Ctx<'a>,
    tokens: Tokens,
    sub: Option<String>,
    nonce: Option<Nonce>,
    then: Then,
    now: u64,
) -> Result<Step<'a>, Error> {
    let attributes_url = attributes_endpoint(ctx.config, ctx.meta);
    let source = ctx.config.user_data.resolve(
        tokens.refresh_token.is_some(),
        attributes_url.is_some(),
        ctx.meta.userinfo_endpoint.is_some(),
    );
    let reading = Box::new(Reading {
        tokens,
        sub,
        nonce,
        source,
        attributes_url,
        data: UserData::default(),
        then,
    });
    if matches!(source, UserDataSource::Userinfo | UserDataSource::Both) {
        let (Some(endpoint), Some(_)) = (ctx.meta.userinfo_endpoint.as_deref(), &reading.sub)
        else {
            return Err(ConfigError::unsupported(
                "IDME_USER_DATA",
                "userinfo needs an ID token (scope `openid`) and a userinfo endpoint",
            )
            .into());
        };
        let request = Outbound::get(
            endpoint,
            Endpoint::Userinfo,
            Some(reading.tokens.access_token.secret()),
        )?;
        return Ok(Step::Send(
            Box::new(request),
            Waiting::Userinfo(ExpectUserinfo::new(ctx, reading)),
        ));
    }
    attributes(ctx, reading, now)
}

/// After userinfo: with both sources, the first access token is spent, so a refresh
/// fetches a second one for `attributes.json`.
pub(crate) fn after_userinfo<'a>(
    ctx: Ctx<'a>,
    reading: Box<Reading>,
    now: u64,
) -> Result<Step<'a>, Error> {
    if reading.source != UserDataSource::Both {
        return attributes(ctx, reading, now);
    }
    let Some(rt) = reading.tokens.refresh_token.clone() else {
        return Err(ConfigError::unsupported(
            "IDME_USER_DATA",
            "reading both userinfo and attributes needs a refresh token",
        )
        .into());
    };
    let sub = reading.sub.clone().unwrap_or_default();
    let nonce = reading.nonce.clone();
    refresh::begin(ctx, rt, sub, nonce, AfterRefresh::Attributes(reading))
}

/// `attributes.json`, if the source includes it, with the access token at hand.
pub(crate) fn attributes<'a>(
    ctx: Ctx<'a>,
    reading: Box<Reading>,
    now: u64,
) -> Result<Step<'a>, Error> {
    if !matches!(
        reading.source,
        UserDataSource::Attributes | UserDataSource::Both
    ) {
        return done(ctx, reading, now);
    }
    let Some(url) = reading.attributes_url.as_deref() else {
        return Err(ConfigError::unsupported(
            "IDME_USER_DATA",
            "attributes.json is not available for this provider: set attributes_endpoint or use userinfo",
        )
        .into());
    };
    let request = Outbound::get(
        url,
        Endpoint::Attributes,
        Some(reading.tokens.access_token.secret()),
    )?;
    Ok(Step::Send(
        Box::new(request),
        Waiting::Attributes(ExpectAttributes { ctx, reading }),
    ))
}

/// Waits for `attributes.json`.
#[derive(Debug)]
pub(crate) struct ExpectAttributes<'a> {
    ctx: Ctx<'a>,
    reading: Box<Reading>,
}

impl<'a> ExpectAttributes<'a> {
    /// ID.me's answer: the attributes and verification status.
    pub(crate) fn handle(self, response: HttpResponse, now: u64) -> Result<Step<'a>, Error> {
        let Self { ctx, mut reading } = self;
        let body = read_body(response, Endpoint::Attributes)?;
        let verification = Verification::from_attributes_json(&body).map_err(|e| {
            tracing::warn!(target: "idme::flow", error = %e, "attributes.json does not parse");
            ProviderMisbehaved::MalformedAttributes
        })?;
        reading.data.verification = Some(verification);
        done(ctx, reading, now)
    }
}

/// Everything was read.
fn done<'a>(ctx: Ctx<'a>, reading: Box<Reading>, now: u64) -> Result<Step<'a>, Error> {
    let Reading {
        tokens, data, then, ..
    } = *reading;
    match then {
        Then::Login(login) => callback_steps::make_session(&ctx, login, Some(tokens), data, now),
    }
}
