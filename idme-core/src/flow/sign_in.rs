//! The callback's protocol half, once `complete` accepted its pending login, as a flow
//! ([`SignIn`]): check the RFC 9207 `iss` and the response parameters, verify the
//! front-channel ID token, exchange the code and verify the token endpoint's ID token
//! (`token`), read the user's data (`user_data`), and make the session. It owns every
//! transition of a sign-in and gives [`SignedIn`].

use serde_json::{Map, Value};

use super::callback::CallbackParams;
use super::pending::PendingLogin;
use super::step::{Checked, Ctx, Flow, Next, Tokens, refetched, unwrap_token};
use super::token::{self, TokenResponse};
use super::user_data::{self, Read, ReadUserData, UserData};
use super::{FlowPlan, assurance};
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::http_client::HttpResponse;
use crate::provider::Outbound;
use crate::secret::{AccessToken, AuthorizationCode, IdToken, random_token};
use crate::session::{Session, user_claims};
use crate::validate::id_token::Expectations;
use crate::validate::jws::{Alg, KeysWanted};

/// The protocol half of a callback. Gives [`SignedIn`].
#[derive(Debug)]
pub(crate) enum SignIn {}

/// What a sign-in gives: the new session, and where to send the browser.
#[derive(Debug)]
pub(crate) struct SignedIn {
    pub(crate) session: Box<Session>,
    pub(crate) return_to: String,
}

/// What a login has gathered so far.
#[derive(Debug)]
pub(crate) struct Login {
    pending: PendingLogin,
    plan: FlowPlan,
    code: Option<AuthorizationCode>,
    front_id_token: Option<IdToken>,
    front_access_token: Option<AccessToken>,
    /// The `scope` beside a front-channel access token.
    front_scope: Option<String>,
    front_expires_at: Option<u64>,
    /// The subject of the ID tokens verified so far.
    sub: Option<String>,
    /// The claims of the latest verified ID token.
    id_claims: Option<Map<String, Value>>,
    /// The token endpoint's ID token, as issued.
    latest_id_token: Option<IdToken>,
}

/// The sign-in's states waiting for an answer.
#[derive(Debug)]
pub(crate) enum Awaiting {
    /// The code exchange's token response.
    Token(Box<Login>),
    /// A call reading the user's data.
    UserData(Box<Login>, user_data::Awaiting),
}

/// The sign-in's states waiting for a key set.
#[derive(Debug)]
pub(crate) enum Verifying {
    /// The front-channel ID token `jwt` (decrypted).
    FrontIdToken(VerifyingToken),
    /// The token response's ID token `jwt` (decrypted).
    TokenIdToken(VerifyingToken, Box<TokenResponse>),
    /// A signed answer read for the user's data.
    UserData(Box<Login>, user_data::Verifying),
}

/// An ID token waiting for the key set.
pub(crate) struct VerifyingToken {
    login: Box<Login>,
    jwt: String,
    wanted: KeysWanted,
}

impl std::fmt::Debug for VerifyingToken {
    // Without the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingToken")
            .field("login", &self.login)
            .field("wanted", &self.wanted)
            .finish_non_exhaustive()
    }
}

impl Login {
    /// What every ID token of this login must satisfy (the front channel's; the code
    /// exchange's token adjusts the hashes and adds the front channel's subject).
    fn expectations<'s>(&'s self, ctx: &Ctx<'s>, allowed: &'s [Alg], now: u64) -> Expectations<'s> {
        Expectations {
            issuer: ctx.issuer,
            client_id: &ctx.config.client_id,
            hmac_secret: ctx.hmac_secret(),
            allowed,
            nonce: Some(self.pending.nonce.secret()),
            nonce_may_be_absent: false,
            code: self.code.as_ref().map(AuthorizationCode::secret),
            c_hash_required: self.plan.c_hash_required,
            access_token: self.front_access_token.as_ref().map(AccessToken::secret),
            at_hash_required: self.plan.at_hash_required,
            sub: None,
            max_age: self.pending.max_age,
            acr_values: self.pending.acr_values.as_deref(),
            acr_required: self.pending.acr_required,
            now,
            skew: ctx.config.clock_skew.as_secs(),
        }
    }
}

/// Starts the protocol part of a callback whose pending login was accepted.
pub(crate) fn begin(
    ctx: &Ctx<'_>,
    params: &CallbackParams,
    pending: PendingLogin,
    now: u64,
) -> Result<Next<SignIn>, Error> {
    let plan = pending.response_type.plan();

    // RFC 9207: `iss` on the authorization response defeats IdP mix-up. When present it
    // must be the issuer. When absent although advertised, it is refused — unless the
    // response carries an ID token: its signed `iss` claim, verified below before any code
    // is redeemed, identifies the issuer (RFC 9700 §4.4.2.1; what oidc-provider relies on).
    match params.get("iss") {
        Some(iss) if iss != ctx.issuer => {
            return Err(ProviderMisbehaved::CallbackIssuerMismatch.into());
        }
        None if ctx.meta.authorization_response_iss_parameter_supported && !plan.front_id_token => {
            return Err(ProviderMisbehaved::CallbackIssuerMissing.into());
        }
        _ => {}
    }
    let required = |name: &'static str, wanted: bool| -> Result<Option<&str>, Error> {
        match (wanted, params.get(name)) {
            (true, None) => Err(ProviderMisbehaved::MissingResponseParameter(name).into()),
            (true, v) => Ok(v),
            (false, _) => Ok(None),
        }
    };
    let code = required("code", plan.code)?.map(AuthorizationCode::new);
    let front_id_token = required("id_token", plan.front_id_token)?.map(IdToken::new);
    let front_access_token =
        required("access_token", plan.front_access_token)?.map(AccessToken::new);
    if plan.front_access_token
        && !params
            .get("token_type")
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
    {
        return Err(ProviderMisbehaved::UnsupportedTokenType.into());
    }
    let login = Box::new(Login {
        pending,
        plan,
        code,
        front_id_token,
        front_access_token,
        front_scope: params.get("scope").map(str::to_owned),
        front_expires_at: params
            .get("expires_in")
            .and_then(|s| s.parse::<u64>().ok())
            .map(|s| now.saturating_add(s)),
        sub: None,
        id_claims: None,
        latest_id_token: None,
    });
    // The front-channel ID token (implicit and hybrid flows).
    match &login.front_id_token {
        Some(jwt) => {
            let jwt = unwrap_token(ctx.config, jwt.secret())?.into_owned();
            verify_front(ctx, login, jwt, false, now)
        }
        None => after_front(ctx, login, now),
    }
}

impl Flow for SignIn {
    type Awaiting = Awaiting;
    type Verifying = Verifying;
    type Output = SignedIn;

    fn on_response(
        state: Awaiting,
        ctx: &Ctx<'_>,
        response: HttpResponse,
        now: u64,
    ) -> Result<Next<Self>, Error> {
        match state {
            Awaiting::Token(login) => exchanged(ctx, login, response, now),
            Awaiting::UserData(login, s) => ReadUserData::on_response(s, ctx, response, now)?
                .within(
                    login,
                    Awaiting::UserData,
                    Verifying::UserData,
                    |login, read| make_session(ctx, login, Some(read), now),
                ),
        }
    }

    fn on_keys(state: Verifying, ctx: &Ctx<'_>, now: u64) -> Result<Next<Self>, Error> {
        match state {
            Verifying::FrontIdToken(v) => {
                verify_front(ctx, v.login, v.jwt, refetched(v.wanted), now)
            }
            Verifying::TokenIdToken(v, response) => {
                verify_exchanged(ctx, v.login, response, v.jwt, refetched(v.wanted), now)
            }
            Verifying::UserData(login, s) => ReadUserData::on_keys(s, ctx, now)?.within(
                login,
                Awaiting::UserData,
                Verifying::UserData,
                |login, read| make_session(ctx, login, Some(read), now),
            ),
        }
    }
}

/// Verifies the front-channel ID token `jwt` (decrypted) with the keys at hand.
fn verify_front(
    ctx: &Ctx<'_>,
    mut login: Box<Login>,
    jwt: String,
    refetched: bool,
    now: u64,
) -> Result<Next<SignIn>, Error> {
    let allowed = ctx.allowed();
    let e = login.expectations(ctx, &allowed, now);
    match token::verify_id_token(ctx, &jwt, &e, refetched)? {
        Checked::Verified(v) => {
            login.sub = Some(v.sub);
            login.id_claims = Some(v.claims);
            after_front(ctx, login, now)
        }
        Checked::NeedKeys(wanted) => Ok(Next::NeedKeys(
            wanted,
            Verifying::FrontIdToken(VerifyingToken { login, jwt, wanted }),
        )),
    }
}

/// After the front channel: the code exchange, or straight to the user's data.
fn after_front(ctx: &Ctx<'_>, login: Box<Login>, now: u64) -> Result<Next<SignIn>, Error> {
    let config = ctx.config;
    if login.front_access_token.is_some() && login.code.is_none() {
        // No token response: the granted scope comes beside the access token.
        assurance::check_granted_scope(&config.scopes, login.front_scope.as_deref())?;
    }
    let Some(code) = login.code.as_ref().map(AuthorizationCode::secret) else {
        let tokens = login.front_access_token.clone().map(|access_token| Tokens {
            access_token,
            refresh_token: None,
            access_expires_at: login.front_expires_at,
        });
        return read_user_data(ctx, login, tokens, now);
    };
    let mut grant = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        // The redirect URI of this login: a native app's loopback port varies (RFC 8252).
        (
            "redirect_uri",
            (login.pending.redirect_uri.as_deref()).unwrap_or(config.redirect_uri.as_str()),
        ),
    ];
    if let Some(v) = &login.pending.pkce_verifier {
        grant.push(("code_verifier", v.secret()));
    }
    let request = token::request(config, &ctx.meta.token_endpoint, grant)?;
    Ok(Next::Send(
        Box::new(Outbound::new(request, Endpoint::Token)),
        Awaiting::Token(login),
    ))
}

/// The token endpoint's answer to the code exchange: the granted scope, then its ID token
/// (required with `openid` unless the front channel had one).
fn exchanged(
    ctx: &Ctx<'_>,
    mut login: Box<Login>,
    response: HttpResponse,
    now: u64,
) -> Result<Next<SignIn>, Error> {
    let response = token::read_response(response)?;
    assurance::check_granted_scope(&ctx.config.scopes, response.scope.as_deref())?;
    login.latest_id_token = response.id_token.clone();
    match &response.id_token {
        Some(jwt) => {
            let jwt = unwrap_token(ctx.config, jwt.secret())?.into_owned();
            verify_exchanged(ctx, login, Box::new(response), jwt, false, now)
        }
        None if login.sub.is_none() && ctx.config.openid => {
            Err(ProviderMisbehaved::MissingResponseParameter("id_token").into())
        }
        None => {
            let tokens = response.tokens(now);
            read_user_data(ctx, login, Some(tokens), now)
        }
    }
}

/// Verifies the token response's ID token `jwt` (decrypted): the login's expectations,
/// with `at_hash` over the new access token and the front channel's subject, if any.
fn verify_exchanged(
    ctx: &Ctx<'_>,
    mut login: Box<Login>,
    response: Box<TokenResponse>,
    jwt: String,
    refetched: bool,
    now: u64,
) -> Result<Next<SignIn>, Error> {
    let allowed = ctx.allowed();
    let front = login.expectations(ctx, &allowed, now);
    let e = Expectations {
        code: None,
        c_hash_required: false,
        access_token: Some(response.access_token.secret()),
        at_hash_required: false,
        sub: login.sub.as_deref(),
        ..front
    };
    match token::verify_id_token(ctx, &jwt, &e, refetched)? {
        Checked::Verified(verified) => {
            login.sub = Some(verified.sub);
            login.id_claims = Some(verified.claims);
            let tokens = response.tokens(now);
            read_user_data(ctx, login, Some(tokens), now)
        }
        Checked::NeedKeys(wanted) => Ok(Next::NeedKeys(
            wanted,
            Verifying::TokenIdToken(VerifyingToken { login, jwt, wanted }, response),
        )),
    }
}

/// Who the user is and what ID.me verified: one call per access token.
fn read_user_data(
    ctx: &Ctx<'_>,
    login: Box<Login>,
    tokens: Option<Tokens>,
    now: u64,
) -> Result<Next<SignIn>, Error> {
    let Some(tokens) = tokens else {
        return make_session(ctx, login, None, now);
    };
    let sub = login.sub.clone();
    let nonce = Some(login.pending.nonce.clone());
    user_data::begin(ctx, tokens, sub, nonce)?.within(
        login,
        Awaiting::UserData,
        Verifying::UserData,
        |login, read| make_session(ctx, login, Some(read), now),
    )
}

/// Makes the session from everything gathered.
fn make_session(
    ctx: &Ctx<'_>,
    login: Box<Login>,
    read: Option<Read>,
    now: u64,
) -> Result<Next<SignIn>, Error> {
    let config = ctx.config;
    let Login {
        pending,
        front_id_token,
        sub,
        id_claims,
        latest_id_token,
        ..
    } = *login;
    let (tokens, data) = match read {
        Some(Read { tokens, data }) => (Some(tokens), data),
        None => (None, UserData::default()),
    };
    // OAuth mode (no `openid`): the identity is attributes.json's `uuid`.
    let sub = match (sub, &data.verification) {
        (Some(sub), _) => sub,
        (None, Some(v)) => v
            .attribute("uuid")
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .ok_or(ProviderMisbehaved::MissingClaim("uuid"))?,
        (None, None) => {
            return Err(ProviderMisbehaved::MissingResponseParameter("id_token").into());
        }
    };
    let provider_sid = id_claims
        .as_ref()
        .and_then(|c| c.get("sid"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    // The latest ID token, as issued, for the `id_token_hint` of RP-initiated logout:
    // only where the provider has such an endpoint (ID.me does not), since it weighs ~1 KB.
    let id_token = ctx
        .meta
        .end_session_endpoint
        .is_some()
        .then(|| latest_id_token.or(front_id_token))
        .flatten();
    let session = Session {
        sid: random_token(24),
        id_token,
        sub,
        provider_sid,
        // The ID token's `auth_time` and `acr` stay in `claims`.
        auth_time: None,
        acr: None,
        user_json: Default::default(),
        last_seen: now,
        claims: user_claims(id_claims, data.userinfo),
        verification: data.verification,
        nonce: config.openid.then(|| pending.nonce.secret().to_owned()),
        access_token: tokens.as_ref().map(|t| t.access_token.clone()),
        refresh_token: tokens.as_ref().and_then(|t| t.refresh_token.clone()),
        access_expires_at: tokens.as_ref().and_then(|t| t.access_expires_at),
        created_at: now,
        expires_at: now + config.session_lifetime.as_secs(),
    };
    Ok(Next::Done(SignedIn {
        session: Box::new(session),
        return_to: pending.return_to,
    }))
}
