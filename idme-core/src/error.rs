//! One error type for the whole engine, grouped by who is to blame.
//!
//! The HTTP status and the message a browser may see are decided here, once
//! ([`Error::status`], [`Error::public_message`]); adapters never re-derive them. The
//! `Display` text is for logs: it names the failed check but never contains a secret,
//! token or cookie value.

use http::StatusCode;

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

/// The provider endpoint an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// `/.well-known/openid-configuration`.
    Discovery,
    /// The JSON Web Key Set.
    Jwks,
    /// The authorization endpoint (errors delivered on the redirect).
    Authorization,
    /// The token endpoint.
    Token,
    /// The userinfo endpoint.
    Userinfo,
    /// ID.me's `attributes.json` (verification status).
    Attributes,
    /// ID.me's policies endpoint.
    Policies,
}

impl Endpoint {
    /// The endpoint's short name, as its `Display` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Discovery => "discovery",
            Endpoint::Jwks => "jwks",
            Endpoint::Authorization => "authorization",
            Endpoint::Token => "token",
            Endpoint::Userinfo => "userinfo",
            Endpoint::Attributes => "attributes",
            Endpoint::Policies => "policies",
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol check that a provider response failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderMisbehaved {
    /// The token is not a well-formed compact JWS.
    #[error("malformed JWT")]
    MalformedJwt,
    /// The JWS header names an algorithm outside the allow-list (`none` is never allowed).
    #[error("algorithm {0:?} is not allowed")]
    DisallowedAlgorithm(String),
    /// No key in the provider's JWKS matches the token, even after a refetch.
    #[error("no matching signing key in the JWKS")]
    UnknownSigningKey,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `iss` is not the configured issuer.
    #[error("issuer mismatch")]
    IssuerMismatch,
    /// `aud` does not contain this client.
    #[error("audience mismatch")]
    AudienceMismatch,
    /// `azp` is present (or required by several audiences) and is not this client.
    #[error("authorized party (azp) mismatch")]
    AzpMismatch,
    /// A required claim is absent.
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    /// The token expired (beyond the allowed clock skew).
    #[error("token expired")]
    Expired,
    /// `iat` lies in the future (beyond the allowed clock skew).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `max_age` was sent and `auth_time` says the sign-in at the provider is older
    /// (OIDC Core §3.1.2.1).
    #[error("auth_time is older than the max_age sent")]
    AuthTimeTooOld,
    /// `acr_values` were sent and the ID token's `acr` is none of them.
    #[error("acr is not one of the acr_values sent")]
    AcrNotRequested,
    /// The token response's `scope` lacks a policy the configuration requires (IAL2, or a
    /// configured policy when `scope` is returned).
    #[error("granted scope lacks the required policy {0:?}")]
    ScopeNotGranted(String),
    /// `nonce` is absent although one was sent.
    #[error("nonce missing")]
    MissingNonce,
    /// `nonce` differs from the one sent.
    #[error("nonce mismatch")]
    NonceMismatch,
    /// `c_hash` is required for this response type and absent.
    #[error("c_hash missing")]
    MissingCHash,
    /// `c_hash` does not match the authorization code.
    #[error("c_hash mismatch")]
    CHashMismatch,
    /// `at_hash` is required for this response type and absent.
    #[error("at_hash missing")]
    MissingAtHash,
    /// `at_hash` does not match the access token.
    #[error("at_hash mismatch")]
    AtHashMismatch,
    /// The ID token from the token endpoint names another subject than the front-channel one.
    #[error("sub differs between front-channel and token-endpoint ID tokens")]
    SubMismatchInTokenResponse,
    /// The userinfo response names another subject than the ID token.
    #[error("sub differs between ID token and userinfo")]
    SubMismatchInUserinfo,
    /// RFC 9207: the `iss` parameter on the callback is not the configured issuer.
    #[error("iss parameter on the callback does not match the issuer (possible mix-up attack)")]
    CallbackIssuerMismatch,
    /// RFC 9207: the provider advertises the `iss` parameter but the callback lacks it.
    #[error("iss parameter missing on the callback although the provider advertises it")]
    CallbackIssuerMissing,
    /// The callback lacks a parameter its response type requires (`code`, `id_token`, `access_token`).
    #[error("authorization response lacks {0}")]
    MissingResponseParameter(&'static str),
    /// The token endpoint answered 2xx with a body that is not a valid token response.
    #[error("malformed token response")]
    MalformedTokenResponse,
    /// The token endpoint returned a token type other than `Bearer`.
    #[error("unsupported token type")]
    UnsupportedTokenType,
    /// The userinfo response is neither JSON nor a JWT we can verify.
    #[error("malformed userinfo response")]
    MalformedUserinfo,
    /// `attributes.json` is not the shape ID.me documents.
    #[error("malformed attributes.json")]
    MalformedAttributes,
    /// An encrypted token could not be decrypted (wrong key, tampered ciphertext).
    #[error("encrypted response could not be decrypted")]
    DecryptionFailed,
    /// The discovery document is not valid.
    #[error("malformed discovery document")]
    MalformedDiscovery,
    /// The discovery document names another issuer than the configured one.
    #[error("discovery issuer {0:?} differs from the configured issuer")]
    DiscoveryIssuerMismatch(String),
    /// The JWKS is not valid JSON or holds no usable key.
    #[error("malformed JWKS")]
    MalformedJwks,
    /// A back-channel logout token (or its request) breaks a rule of OIDC Back-Channel
    /// Logout 1.0 §2.6; the text names the rule.
    #[error("invalid logout token: {0}")]
    InvalidLogoutToken(&'static str),
    /// An encrypted token (JWE) arrived, but no decryption key is configured: nothing is
    /// decrypted.
    #[error("encrypted token received, but no decryption key is configured")]
    UnexpectedEncryption,
    /// A decryption key is configured, so ID tokens and userinfo must be encrypted; this
    /// one was not (a downgrade).
    #[error("unencrypted {0} although a decryption key is configured (downgrade refused)")]
    NotEncrypted(&'static str),
    /// A signed userinfo response lacks `iss` or names another issuer (OIDC Core §5.3.2).
    #[error("signed userinfo: issuer missing or mismatched")]
    UserinfoIssuerMismatch,
    /// A signed userinfo response lacks `aud` or is not addressed to this client (OIDC
    /// Core §5.3.2).
    #[error("signed userinfo: audience missing or mismatched")]
    UserinfoAudienceMismatch,
}

impl ProviderMisbehaved {
    /// A 2xx answer of a server-to-server endpoint that cannot be read at all: the
    /// provider is at fault, not the browser's request.
    pub(crate) fn is_unreadable_answer(&self) -> bool {
        matches!(
            self,
            ProviderMisbehaved::MalformedDiscovery
                | ProviderMisbehaved::MalformedJwks
                | ProviderMisbehaved::MalformedTokenResponse
                | ProviderMisbehaved::MalformedUserinfo
                | ProviderMisbehaved::MalformedAttributes
        )
    }
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

/// The provider could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderUnavailable {
    /// The call took longer than the configured timeout.
    #[error("{0} endpoint timed out")]
    Timeout(Endpoint),
    /// The call failed at the network level.
    #[error("{endpoint} endpoint unreachable: {message}")]
    Network {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The transport error, without secrets.
        message: String,
    },
    /// The endpoint answered with a failure status and a body that is not an OAuth error.
    #[error("{endpoint} endpoint answered {status}: {body}")]
    Status {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The HTTP status.
        status: u16,
        /// The start of the body (at most 512 bytes, lossily decoded).
        body: String,
    },
    /// The answer's body is longer than the engine accepts from this endpoint; reading
    /// stopped at the limit.
    #[error("{endpoint} endpoint answered more than {limit} bytes")]
    TooLarge {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The answer's `Content-Type` is not one the endpoint's specification allows.
    #[error("{endpoint} endpoint answered content type {content_type:?}")]
    WrongContentType {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The `Content-Type` received (cut to 64 characters; empty when absent).
        content_type: String,
    },
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
