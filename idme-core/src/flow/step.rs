//! What the steps of the flow share: the plain values a step starts from ([`Ctx`]), and
//! what handling an input gives ([`Step`]): a request to send and the step that waits for
//! its answer, or the outcome. Nothing here reads a clock or awaits; the driver
//! (`driver`) sends the requests.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::keys::ExpectKeys;
use super::refresh::{ExpectRefreshedTokens, Tokens};
use super::token::ExpectTokenResponse;
use super::user_data::ExpectAttributes;
use super::userinfo::ExpectUserinfo;
use crate::config::IdmeConfig;
use crate::error::Error;
use crate::http_client::HttpResponse;
use crate::provider::{Outbound, ProviderMetadata};
use crate::session::Session;
use crate::validate::jws::Alg;
use crate::validate::key_set::KeySnapshot;

/// What every step knows, as plain values: the configuration, the issuer, the provider's
/// discovery document and the signing keys at hand (`None` when none are cached).
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) config: &'a IdmeConfig,
    pub(crate) issuer: &'a str,
    pub(crate) meta: &'a ProviderMetadata,
    pub(crate) keys: Option<Arc<KeySnapshot>>,
}

impl<'a> Ctx<'a> {
    /// The signature algorithms accepted ([`allowed_algorithms`]).
    pub(crate) fn allowed(&self) -> Vec<Alg> {
        allowed_algorithms(self.config)
    }

    /// The HMAC key ([`hmac_secret`]).
    pub(crate) fn hmac_secret(&self) -> Option<&'a [u8]> {
        hmac_secret(self.config)
    }
}

pub(crate) use crate::validate::accept::{allowed_algorithms, hmac_secret, unwrap_token};

/// What handling an input gives.
#[derive(Debug)]
pub(crate) enum Step<'a> {
    /// Send this request and hand its answer to the step beside it.
    Send(Box<Outbound>, Waiting<'a>),
    /// The flow is over.
    Done(Outcome),
}

/// A step waiting for the answer to the request it asked for.
#[derive(Debug)]
pub(crate) enum Waiting<'a> {
    /// The provider's key set (a token named a key the set at hand lacks, or none is).
    Keys(ExpectKeys<'a>),
    /// The code exchange's token response.
    TokenResponse(ExpectTokenResponse<'a>),
    /// The userinfo answer.
    Userinfo(ExpectUserinfo<'a>),
    /// The refresh grant's token response.
    RefreshedTokens(ExpectRefreshedTokens<'a>),
    /// ID.me's `attributes.json`.
    Attributes(ExpectAttributes<'a>),
}

impl<'a> Waiting<'a> {
    /// Hands `response` to the waiting step, at `now` (Unix seconds).
    pub(crate) fn handle(self, response: HttpResponse, now: u64) -> Result<Step<'a>, Error> {
        match self {
            Waiting::Keys(s) => s.handle(response, now),
            Waiting::TokenResponse(s) => s.handle(response, now),
            Waiting::Userinfo(s) => s.handle(response, now),
            Waiting::RefreshedTokens(s) => s.handle(response, now),
            Waiting::Attributes(s) => s.handle(response, now),
        }
    }
}

/// How a flow ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A login: the new session, and where to send the browser.
    SignedIn(Box<Session>, String),
    /// A refresh: the new tokens, and the claims of the ID token that came with them.
    Refreshed(Tokens, Option<Map<String, Value>>),
}
