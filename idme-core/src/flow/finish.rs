//! The callback, start to end: find and open the pending login, refuse replays, check the
//! RFC 9207 `iss`, verify the front-channel ID token, exchange the code, verify the
//! token-endpoint ID token, fetch userinfo, and make the session. Any failure leaves no
//! session behind.

use serde_json::{Map, Value};

use super::callback::{self, CallbackInput, CallbackMethod, CallbackParams};
use super::pending::{self, PendingLogin};
use super::refresh::Tokens;
use super::user_data::{self, UserData};
use super::{ResponseMode, assurance, token};
use crate::cookies::{RequestCookies, SetCookie};
use crate::engine::Inner;
use crate::error::{CallbackRejected, Error, ProviderMisbehaved};
use crate::secret::{AccessToken, IdToken, random_token};
use crate::session::{Session, user_claims};
use crate::validate::id_token::Expectations;

/// What the callback route answers.
#[derive(Debug)]
pub(crate) enum CallbackOutcome {
    /// A `fragment`-mode callback's first hop: serve the relay page.
    RelayPage,
    /// Signed in.
    Done {
        session: Box<Session>,
        return_to: String,
        clear: SetCookie,
    },
    /// Not signed in; `clear` deletes the pending-login cookie if one was found.
    Failed {
        error: Error,
        clear: Option<SetCookie>,
    },
}

/// Runs the whole callback.
pub(crate) async fn run(
    inner: &Inner,
    input: &CallbackInput<'_>,
    cookies: &RequestCookies,
    now: u64,
) -> CallbackOutcome {
    let config = &inner.config;
    let params = match callback::read(input) {
        Ok(p) => p,
        Err(e) => {
            return CallbackOutcome::Failed {
                error: e.into(),
                clear: None,
            };
        }
    };
    if input.method == CallbackMethod::Get
        && params.is_empty()
        && config.response_mode == ResponseMode::Fragment
    {
        return CallbackOutcome::RelayPage;
    }

    // The pending login named by `state`, deleted whatever happens next.
    let state = params.get("state");
    let secure = config.secure_cookies;
    let name = state.map(|s| pending::cookie_name(s, secure));
    let clear = name.as_ref().and_then(|n| {
        cookies.get(n).map(|_| {
            SetCookie::clear(
                n,
                pending::cookie_path(secure, &config.paths.callback),
                secure,
            )
        })
    });
    let fail = |error: Error, clear: Option<SetCookie>| CallbackOutcome::Failed { error, clear };

    // An error on the redirect (the user cancelled, or the provider refused the request).
    if let Some(code) = params.get("error") {
        tracing::info!(
            target: "idme::flow",
            error = code,
            description = ?params.get("error_description"),
            "the provider returned an error on the redirect"
        );
        return fail(redirect_error(code).into(), clear);
    }

    let Some((state, name)) = state.zip(name) else {
        let e = if params.has_response() {
            CallbackRejected::MissingState
        } else {
            CallbackRejected::Malformed
        };
        return fail(e.into(), None);
    };
    let pending = match open_pending(inner, cookies, state, &name, now) {
        Ok(p) => p,
        Err(e) => return fail(e, clear),
    };
    let Some(clear) = clear else {
        // open_pending found the cookie, so `clear` is set; keep the compiler honest.
        return fail(CallbackRejected::LoginCookieMissing.into(), None);
    };

    // Success parameters must come through the channel the login asked for: a code in the
    // query of a form_post login is an injection attempt.
    let expected_method = if pending.response_mode.delivered_by_post() {
        CallbackMethod::Post
    } else {
        CallbackMethod::Get
    };
    if input.method != expected_method {
        return fail(CallbackRejected::ResponseModeMismatch.into(), Some(clear));
    }

    // Single use: claimed before any network call, so a concurrent replay loses too.
    let expires_at = pending.created_at + config.login_timeout.as_secs();
    if !inner.used_logins.claim(state, expires_at, now) {
        return fail(CallbackRejected::Replayed.into(), Some(clear));
    }

    match complete(inner, &params, pending, now).await {
        Ok((session, return_to)) => CallbackOutcome::Done {
            session: Box::new(session),
            return_to,
            clear,
        },
        Err(e) => fail(e, Some(clear)),
    }
}

/// The rejection for an `error` on the redirect.
pub(crate) fn redirect_error(code: &str) -> CallbackRejected {
    match code {
        "access_denied" => CallbackRejected::AccessDenied,
        // The answers to prompt=none when the person would have to do something: a
        // page with a plain sign-in link, never a redirect that could loop.
        "login_required"
        | "consent_required"
        | "interaction_required"
        | "account_selection_required" => CallbackRejected::LoginRequired(code.to_owned()),
        _ => CallbackRejected::ProviderError(code.chars().take(64).collect()),
    }
}

/// Finds, opens and checks the pending-login cookie for `state`.
fn open_pending(
    inner: &Inner,
    cookies: &RequestCookies,
    state: &str,
    name: &str,
    now: u64,
) -> Result<PendingLogin, Error> {
    let config = &inner.config;
    let Some(sealed) = cookies.get(name) else {
        // Another login's cookie is here, but not this one: the state was altered.
        return Err(
            if cookies.any_with_prefix(pending::cookie_prefix(config.secure_cookies)) {
                CallbackRejected::StateMismatch
            } else {
                CallbackRejected::LoginCookieMissing
            }
            .into(),
        );
    };
    let pending: PendingLogin = config
        .cookie_keys
        .open(name, sealed)
        .ok_or(CallbackRejected::LoginCookieInvalid)?;
    if !pending.state.ct_eq_str(state) {
        return Err(CallbackRejected::StateMismatch.into());
    }
    if now > pending.created_at + config.login_timeout.as_secs() || now < pending.created_at {
        return Err(CallbackRejected::LoginExpired.into());
    }
    Ok(pending)
}

/// Everything after the pending login was accepted: protocol checks and provider calls.
pub(crate) async fn complete(
    inner: &Inner,
    params: &CallbackParams,
    pending: PendingLogin,
    now: u64,
) -> Result<(Session, String), Error> {
    let config = &inner.config;
    let provider = &inner.provider;
    let meta = provider.metadata().await?;
    let issuer = provider.issuer();

    let plan = pending.response_type.plan();

    // RFC 9207: `iss` on the authorization response defeats IdP mix-up. When present it
    // must be the issuer. When absent although advertised, it is refused — unless the
    // response carries an ID token: its signed `iss` claim, verified below before any code
    // is redeemed, identifies the issuer (RFC 9700 §4.4.2.1; what oidc-provider relies on).
    match params.get("iss") {
        Some(iss) if iss != issuer => return Err(ProviderMisbehaved::CallbackIssuerMismatch.into()),
        None if meta.authorization_response_iss_parameter_supported && !plan.front_id_token => {
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
    let code = required("code", plan.code)?;
    let front_id_token = required("id_token", plan.front_id_token)?;
    let front_access_token = required("access_token", plan.front_access_token)?;
    if plan.front_access_token
        && !params
            .get("token_type")
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
    {
        return Err(ProviderMisbehaved::UnsupportedTokenType.into());
    }

    let skew = config.clock_skew.as_secs();
    let nonce = pending.nonce.secret();
    let allowed = inner.allowed_algorithms();
    let hmac = inner.hmac_secret();

    // The front-channel ID token (implicit and hybrid flows).
    let mut sub: Option<String> = None;
    let mut id_claims: Option<Map<String, Value>> = None;
    let mut latest_id_token: Option<IdToken> = None;
    // What every ID token of this login must satisfy; the code exchange's adds its own
    // access token and the front-channel subject.
    let front = Expectations {
        issuer,
        client_id: &config.client_id,
        hmac_secret: hmac,
        allowed: &allowed,
        nonce: Some(nonce),
        nonce_may_be_absent: false,
        code,
        c_hash_required: plan.c_hash_required,
        access_token: front_access_token,
        at_hash_required: plan.at_hash_required,
        sub: None,
        max_age: pending.max_age,
        acr_values: pending.acr_values.as_deref(),
        now,
        skew,
    };
    if let Some(jwt) = front_id_token {
        let verified = token::verify_id_token(inner, jwt, &front).await?;
        sub = Some(verified.sub);
        id_claims = Some(verified.claims);
    }

    // The code exchange (code and hybrid flows).
    if front_access_token.is_some() && code.is_none() {
        // No token response: the granted scope comes beside the access token.
        assurance::check_granted_scope(&config.scopes, params.get("scope"))?;
    }
    let front_expires_at = params
        .get("expires_in")
        .and_then(|s| s.parse::<u64>().ok())
        .map(|s| now.saturating_add(s));
    let mut tokens = front_access_token.map(|at| Tokens {
        access_token: AccessToken::new(at),
        refresh_token: None,
        access_expires_at: front_expires_at,
    });
    if let Some(code) = code {
        let mut grant = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            (
                "redirect_uri",
                (pending.redirect_uri.as_deref()).unwrap_or(config.redirect_uri.as_str()),
            ),
        ];
        if let Some(v) = &pending.pkce_verifier {
            grant.push(("code_verifier", v.secret()));
        }
        let req = token::request(config, &meta.token_endpoint, grant)?;
        let response = token::call(provider, req).await?;
        assurance::check_granted_scope(&config.scopes, response.scope.as_deref())?;
        latest_id_token = response.id_token.clone();
        match &response.id_token {
            Some(jwt) => {
                let e = Expectations {
                    code: None,
                    c_hash_required: false,
                    access_token: Some(response.access_token.secret()),
                    at_hash_required: false,
                    sub: sub.as_deref(),
                    ..front
                };
                let verified = token::verify_id_token(inner, jwt.secret(), &e).await?;
                sub = Some(verified.sub);
                id_claims = Some(verified.claims);
            }
            None if sub.is_none() && config.openid => {
                return Err(ProviderMisbehaved::MissingResponseParameter("id_token").into());
            }
            None => {}
        }
        tokens = Some(Tokens {
            access_expires_at: response.expires_in.map(|s| now + s),
            access_token: response.access_token,
            refresh_token: response.refresh_token,
        });
    }

    // Who the user is and what ID.me verified: one call per access token.
    let data = match tokens.as_mut() {
        Some(tokens) => {
            user_data::fetch(inner, &meta, tokens, sub.as_deref(), Some(nonce), now).await?
        }
        None => UserData::default(),
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
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    // The latest ID token, as issued, for the `id_token_hint` of RP-initiated logout:
    // only where the provider has such an endpoint (ID.me does not), since it weighs ~1 KB.
    let id_token = meta
        .end_session_endpoint
        .is_some()
        .then(|| latest_id_token.or(front_id_token.map(IdToken::new)))
        .flatten();
    let session = Session {
        sid: random_token(24),
        id_token,
        sub,
        provider_sid,
        last_seen: now,
        claims: user_claims(id_claims, data.userinfo),
        verification: data.verification,
        nonce: config.openid.then(|| nonce.to_owned()),
        access_token: tokens.as_ref().map(|t| t.access_token.clone()),
        refresh_token: tokens.as_ref().and_then(|t| t.refresh_token.clone()),
        access_expires_at: tokens.as_ref().and_then(|t| t.access_expires_at),
        created_at: now,
        expires_at: now + config.session_lifetime.as_secs(),
    };
    Ok((session, pending.return_to))
}
