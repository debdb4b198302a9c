//! The callback, start to end: find and open the pending login, refuse replays, check the
//! RFC 9207 `iss`, verify the front-channel ID token, exchange the code, verify the
//! token-endpoint ID token, fetch userinfo, and make the session. Any failure leaves no
//! session behind.

use super::ResponseMode;
use super::callback::{self, CallbackInput, CallbackMethod, CallbackParams};
use super::driver;
use super::driver::Deps;
use super::pending::{self, PendingLogin};
use crate::cookies::{RequestCookies, SetCookie};
use crate::error::{CallbackRejected, Error};
use crate::session::Session;

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
pub(crate) async fn callback(
    deps: Deps<'_>,
    input: &CallbackInput<'_>,
    cookies: &RequestCookies,
    now: u64,
) -> CallbackOutcome {
    let config = deps.config;
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
    let pending = match open_pending(deps, cookies, state, &name, now) {
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
    let expires_at = pending.expires_at(config.login_timeout);
    if !deps.used_logins.claim(state, expires_at, now) {
        return fail(CallbackRejected::Replayed.into(), Some(clear));
    }

    match accepted_login(deps, &params, pending, now).await {
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
    deps: Deps<'_>,
    cookies: &RequestCookies,
    state: &str,
    name: &str,
    now: u64,
) -> Result<PendingLogin, Error> {
    let config = deps.config;
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
    if !pending.is_live(config.login_timeout, now) {
        return Err(CallbackRejected::LoginExpired.into());
    }
    Ok(pending)
}

/// Everything after the pending login was accepted: the protocol checks and provider
/// calls of the sign-in flow, run by the driver.
pub(crate) async fn accepted_login(
    deps: Deps<'_>,
    params: &CallbackParams,
    pending: PendingLogin,
    now: u64,
) -> Result<(Session, String), Error> {
    let signed_in = driver::sign_in(deps, params, pending, now).await?;
    Ok((*signed_in.session, signed_in.return_to))
}
