//! One error type for the whole engine, grouped by who is to blame.
//!
//! The HTTP status and the message a browser may see are decided here, once
//! ([`Error::status`], [`Error::public_message`]); adapters never re-derive them. The
//! `Display` text is for logs: it names the failed check but never contains a secret,
//! token or cookie value.

use http::StatusCode;

mod outcome;
mod provider;
pub use provider::{Endpoint, ProviderMisbehaved, ProviderUnavailable};

/// Everything that can go wrong in a sign-in, a session or the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The provider sent something that fails a protocol check (bad signature, wrong
    /// issuer, hash mismatch, …). Could be a bug at the provider or an attack on the callback.
    #[error("provider response failed a check: {0}")]
    ProviderMisbehaved(#[from] ProviderMisbehaved),
    /// The browser's callback request is unusable (no state, expired login, replay, …).
    #[error("callback rejected: {0}")]
    CallbackRejected(#[from] CallbackRejected),
    /// The provider answered with an OAuth error (for example `invalid_grant` at the token endpoint).
    #[error("provider refused at {endpoint}: {error} (status {status})")]
    ProviderRejected {
        /// Which endpoint answered.
        endpoint: Endpoint,
        /// The HTTP status it answered with.
        status: u16,
        /// The OAuth `error` code.
        error: String,
        /// The OAuth `error_description`, if any.
        description: Option<String>,
    },
    /// The provider could not be reached, was too slow, or answered garbage with a failure status.
    #[error("provider unavailable: {0}")]
    ProviderUnavailable(#[from] ProviderUnavailable),
    /// The request carries no usable session.
    #[error("not signed in: {0}")]
    Unauthenticated(#[from] Unauthenticated),
    /// The server-side session store could not be used (`503`).
    #[error("{0}")]
    SessionStoreUnavailable(#[from] crate::store::StoreError),
    /// The configuration is invalid; the error names the setting and the rule.
    #[error("invalid configuration: {0}")]
    Config(#[from] crate::config_error::ConfigError),
    /// The library was used in a way it does not support.
    #[error("API misuse: {0}")]
    ApiMisuse(#[from] Misuse),
}

/// A way the library was used that it does not support (a bug in the calling code or in
/// idme-rs, never the user's doing): answered `500`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Misuse {
    /// An adapter asked the engine to answer a [`Route`](crate::adapter::Route) that
    /// another engine listed (an extension route of another `Idme`).
    #[error("the route was listed by another engine: mount `Route::all` of this engine")]
    RouteOfAnotherEngine,
}

/// Why a callback request was refused before or while it was matched to a login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackRejected {
    /// The callback carries no `state`.
    #[error("state missing")]
    MissingState,
    /// No pending-login cookie for this `state`: expired, cleared, or another browser.
    #[error("pending-login cookie missing")]
    LoginCookieMissing,
    /// The pending-login cookie cannot be opened (tampered with or sealed with an unknown key).
    #[error("pending-login cookie invalid")]
    LoginCookieInvalid,
    /// The login was started more than ten minutes ago.
    #[error("login expired")]
    LoginExpired,
    /// `state` differs from the one in the pending-login cookie.
    #[error("state mismatch")]
    StateMismatch,
    /// This login was already completed once (replayed callback).
    #[error("login already completed (replay)")]
    Replayed,
    /// The parameters came through another channel than the configured response mode.
    #[error("response mode mismatch")]
    ResponseModeMismatch,
    /// The request body or query could not be parsed.
    #[error("malformed callback parameters")]
    Malformed,
    /// The user cancelled at the provider (`error=access_denied`).
    #[error("access denied by the user")]
    AccessDenied,
    /// A login without interaction (`prompt=none`) found the person not signed in at the
    /// provider, or needing to consent or choose an account (`login_required`,
    /// `consent_required`, `interaction_required`, `account_selection_required`).
    #[error("provider needs the person to interact ({0}) after prompt=none")]
    LoginRequired(String),
    /// The provider returned another OAuth error on the redirect.
    #[error("provider returned error {0:?} on the redirect")]
    ProviderError(String),
}

/// Why a request is not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unauthenticated {
    /// No session cookie.
    #[error("no session")]
    NoSession,
    /// The session has expired.
    #[error("session expired")]
    Expired,
    /// The session cookie cannot be opened (tampered with, truncated, or sealed with a
    /// retired key).
    #[error("session cookie invalid")]
    Invalid,
    /// The session was ended: signed out (here, on another instance, or at the provider
    /// by back-channel logout), or the provider refused to refresh its tokens.
    #[error("session ended")]
    Ended,
    /// An `Authorization: Bearer` app access token that is unknown, expired or revoked.
    #[error("bearer token invalid, expired or revoked")]
    InvalidToken,
}

impl Error {
    /// The HTTP status an adapter answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::ProviderMisbehaved(m) if m.is_unreadable_answer() => StatusCode::BAD_GATEWAY,
            Error::ProviderMisbehaved(_) => StatusCode::BAD_REQUEST,
            Error::CallbackRejected(CallbackRejected::AccessDenied) => StatusCode::FORBIDDEN,
            Error::CallbackRejected(CallbackRejected::LoginRequired(_)) => StatusCode::UNAUTHORIZED,
            Error::CallbackRejected(_) => StatusCode::BAD_REQUEST,
            Error::ProviderRejected { error, .. } if is_client_config_error(error) => {
                StatusCode::BAD_GATEWAY
            }
            Error::ProviderRejected { .. } => StatusCode::BAD_REQUEST,
            Error::ProviderUnavailable(ProviderUnavailable::Timeout(_)) => {
                StatusCode::GATEWAY_TIMEOUT
            }
            Error::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::SessionStoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Config(_) | Error::ApiMisuse(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A message safe to show to the person in the browser: it never contains a token,
    /// a secret or provider-supplied text.
    pub fn public_message(&self) -> &'static str {
        match self {
            Error::ProviderMisbehaved(m) if m.is_unreadable_answer() => {
                "ID.me sent an answer this site could not read. Please try again in a moment."
            }
            Error::ProviderUnavailable(
                ProviderUnavailable::TooLarge { .. } | ProviderUnavailable::WrongContentType { .. },
            ) => "ID.me sent an answer this site could not read. Please try again in a moment.",
            Error::ProviderMisbehaved(_) => {
                "The sign-in response from ID.me could not be verified, so you were not signed in. Please try again."
            }
            Error::CallbackRejected(c) => match c {
                CallbackRejected::LoginCookieMissing
                | CallbackRejected::LoginCookieInvalid
                | CallbackRejected::LoginExpired => {
                    "This sign-in has expired or was started in another browser. Please start again."
                }
                CallbackRejected::AccessDenied => {
                    "Sign-in was cancelled. You can try again whenever you are ready."
                }
                CallbackRejected::LoginRequired(_) => {
                    "You are not signed in at ID.me. Sign in to continue."
                }
                CallbackRejected::Replayed => {
                    "This sign-in link was already used. Please start again."
                }
                CallbackRejected::ProviderError(_) => {
                    "ID.me could not complete the sign-in. Please try again."
                }
                _ => "The sign-in response was not valid. Please start again.",
            },
            Error::ProviderRejected { error, .. } if is_client_config_error(error) => {
                "Sign-in with ID.me is not configured correctly on this site."
            }
            Error::ProviderRejected { .. } => {
                "ID.me could not complete the sign-in. Please start again."
            }
            Error::ProviderUnavailable(ProviderUnavailable::Timeout(_)) => {
                "ID.me took too long to answer. Please try again in a moment."
            }
            Error::ProviderUnavailable(_) => {
                "ID.me cannot be reached right now. Please try again in a moment."
            }
            Error::Unauthenticated(Unauthenticated::InvalidToken) => {
                "The access token is invalid, expired or revoked."
            }
            Error::Unauthenticated(_) => "Please sign in.",
            Error::SessionStoreUnavailable(_) => "Sessions are temporarily unavailable",
            Error::Config(_) | Error::ApiMisuse(_) => {
                "Sign-in is not available because of a configuration problem on this site."
            }
        }
    }

    /// A short, stable machine-readable code for JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ProviderMisbehaved(_) => "invalid_provider_response",
            Error::CallbackRejected(CallbackRejected::AccessDenied) => "access_denied",
            Error::CallbackRejected(CallbackRejected::LoginRequired(_)) => "login_required",
            Error::CallbackRejected(
                CallbackRejected::LoginCookieMissing
                | CallbackRejected::LoginCookieInvalid
                | CallbackRejected::LoginExpired,
            ) => "login_expired",
            Error::CallbackRejected(_) => "invalid_callback",
            Error::ProviderRejected { .. } => "provider_error",
            Error::ProviderUnavailable(_) => "provider_unavailable",
            Error::Unauthenticated(Unauthenticated::InvalidToken) => "invalid_token",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::SessionStoreUnavailable(_) => "session_store_unavailable",
            Error::Config(_) => "configuration_error",
            Error::ApiMisuse(_) => "internal_error",
        }
    }
}

fn is_client_config_error(error: &str) -> bool {
    matches!(
        error,
        "invalid_client" | "unauthorized_client" | "invalid_redirect_uri"
    )
}

/// Cuts a provider body to at most 512 bytes for logs and errors.
pub(crate) fn truncate_body(body: &[u8]) -> String {
    let cut = &body[..body.len().min(512)];
    String::from_utf8_lossy(cut).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_decided_once() {
        assert_eq!(
            Error::from(CallbackRejected::AccessDenied).status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            Error::from(CallbackRejected::LoginCookieMissing).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            Error::from(ProviderUnavailable::Timeout(Endpoint::Token)).status(),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            Error::from(ProviderMisbehaved::BadSignature).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            Error::from(Unauthenticated::NoSession).status(),
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn public_messages_hold_no_provider_text() {
        let e = Error::ProviderRejected {
            endpoint: Endpoint::Token,
            status: 400,
            error: "invalid_grant".into(),
            description: Some("<script>alert(1)</script>".into()),
        };
        assert!(!e.public_message().contains("script"));
    }
}
