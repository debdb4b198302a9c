//! Who the user is and what ID.me verified, from userinfo and/or `attributes.json`, as a
//! flow ([`ReadUserData`]) made of the leaf flows `userinfo`, `refresh` and `attributes`.
//! ID.me documents access tokens as single-use, so each token is spent on exactly one
//! call; reading both takes a refresh in between.

use serde_json::{Map, Value};

use super::attributes::{self, Attributes};
use super::refresh::{self, Refresh, Refreshed};
use super::step::{Ctx, Flow, Next, Tokens};
use super::userinfo::{self, Userinfo};
use crate::config::UserDataSource;
use crate::error::Error;
use crate::http_client::HttpResponse;
use crate::secret::Nonce;
use crate::verification::Verification;

/// What was read about the user.
#[derive(Debug, Default)]
pub(crate) struct UserData {
    pub(crate) userinfo: Option<Map<String, Value>>,
    pub(crate) verification: Option<Verification>,
}

/// Reading the user's data with a login's tokens. Gives [`Read`].
#[derive(Debug)]
pub(crate) enum ReadUserData {}

/// What reading gives: the data, and the tokens left (refreshed when both sources were read).
#[derive(Debug)]
pub(crate) struct Read {
    pub(crate) tokens: Tokens,
    pub(crate) data: UserData,
}

/// A read under way: what it carries from call to call.
#[derive(Debug)]
pub(crate) struct Reading {
    /// The tokens; the access token is spent by the next call.
    tokens: Tokens,
    /// The ID token's subject, which userinfo must name.
    sub: Option<String>,
    nonce: Option<Nonce>,
    source: UserDataSource,
    attributes_url: Option<String>,
    data: UserData,
}

/// The read's states waiting for an answer: the leaf flow's, beside the read.
#[derive(Debug)]
pub(crate) enum Awaiting {
    Userinfo(Box<Reading>, userinfo::Awaiting),
    Refresh(Box<Reading>, refresh::Awaiting),
    Attributes(Box<Reading>, attributes::Awaiting),
}

/// The read's states waiting for a key set.
#[derive(Debug)]
pub(crate) enum Verifying {
    Userinfo(Box<Reading>, userinfo::Verifying),
    Refresh(Box<Reading>, refresh::Verifying),
}

/// Starts reading what the configured source says, spending each access token once.
pub(crate) fn begin(
    ctx: &Ctx<'_>,
    tokens: Tokens,
    sub: Option<String>,
    nonce: Option<Nonce>,
) -> Result<Next<ReadUserData>, Error> {
    let attributes_url = attributes::endpoint(ctx.config, ctx.meta);
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
    });
    if matches!(source, UserDataSource::Userinfo | UserDataSource::Both) {
        let (Some(endpoint), Some(sub)) = (ctx.meta.userinfo_endpoint.as_deref(), &reading.sub)
        else {
            return Err(Error::config(
                "userinfo needs an ID token (scope `openid`) and a userinfo endpoint",
            ));
        };
        return userinfo::begin(endpoint, &reading.tokens.access_token, sub.clone())?.within(
            reading,
            Awaiting::Userinfo,
            Verifying::Userinfo,
            |r, claims| after_userinfo(ctx, r, claims),
        );
    }
    read_attributes(reading)
}

impl Flow for ReadUserData {
    type Awaiting = Awaiting;
    type Verifying = Verifying;
    type Output = Read;

    fn on_response(
        state: Awaiting,
        ctx: &Ctx<'_>,
        response: HttpResponse,
        now: u64,
    ) -> Result<Next<Self>, Error> {
        match state {
            Awaiting::Userinfo(r, s) => Userinfo::on_response(s, ctx, response, now)?.within(
                r,
                Awaiting::Userinfo,
                Verifying::Userinfo,
                |r, claims| after_userinfo(ctx, r, claims),
            ),
            Awaiting::Refresh(r, s) => Refresh::on_response(s, ctx, response, now)?.within(
                r,
                Awaiting::Refresh,
                Verifying::Refresh,
                after_refresh,
            ),
            Awaiting::Attributes(r, s) => Attributes::on_response(s, ctx, response, now)?.within(
                r,
                Awaiting::Attributes,
                |_, never| match never {},
                done,
            ),
        }
    }

    fn on_keys(state: Verifying, ctx: &Ctx<'_>, now: u64) -> Result<Next<Self>, Error> {
        match state {
            Verifying::Userinfo(r, s) => Userinfo::on_keys(s, ctx, now)?.within(
                r,
                Awaiting::Userinfo,
                Verifying::Userinfo,
                |r, claims| after_userinfo(ctx, r, claims),
            ),
            Verifying::Refresh(r, s) => Refresh::on_keys(s, ctx, now)?.within(
                r,
                Awaiting::Refresh,
                Verifying::Refresh,
                after_refresh,
            ),
        }
    }
}

/// After userinfo: with both sources, the first access token is spent, so a refresh
/// fetches a second one for `attributes.json`.
fn after_userinfo(
    ctx: &Ctx<'_>,
    mut reading: Box<Reading>,
    claims: Map<String, Value>,
) -> Result<Next<ReadUserData>, Error> {
    reading.data.userinfo = Some(claims);
    if reading.source != UserDataSource::Both {
        return read_attributes(reading);
    }
    let Some(rt) = reading.tokens.refresh_token.clone() else {
        return Err(Error::config(
            "reading both userinfo and attributes needs a refresh token",
        ));
    };
    let sub = reading.sub.clone().unwrap_or_default();
    let nonce = reading.nonce.clone();
    refresh::begin(ctx, rt, sub, nonce)?.within(
        reading,
        Awaiting::Refresh,
        Verifying::Refresh,
        after_refresh,
    )
}

/// The refreshed access token is spent on `attributes.json`.
fn after_refresh(
    mut reading: Box<Reading>,
    refreshed: Refreshed,
) -> Result<Next<ReadUserData>, Error> {
    reading.tokens = refreshed.tokens;
    read_attributes(reading)
}

/// `attributes.json`, if the source includes it, with the access token at hand.
fn read_attributes(reading: Box<Reading>) -> Result<Next<ReadUserData>, Error> {
    if !matches!(
        reading.source,
        UserDataSource::Attributes | UserDataSource::Both
    ) {
        return Ok(Next::Done(Read {
            tokens: reading.tokens,
            data: reading.data,
        }));
    }
    let Some(url) = reading.attributes_url.as_deref() else {
        return Err(Error::config(
            "attributes.json is not available for this provider: set attributes_endpoint or use userinfo",
        ));
    };
    attributes::begin(url, &reading.tokens.access_token)?.within(
        reading,
        Awaiting::Attributes,
        |_, never| match never {},
        done,
    )
}

/// Everything was read.
fn done(
    mut reading: Box<Reading>,
    verification: Verification,
) -> Result<Next<ReadUserData>, Error> {
    reading.data.verification = Some(verification);
    let Reading { tokens, data, .. } = *reading;
    Ok(Next::Done(Read { tokens, data }))
}
