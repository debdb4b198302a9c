//! The app server's metrics, through the [`metrics`](https://docs.rs/metrics) facade (a
//! no-op until the application installs a recorder), and its span.
//!
//! | name | type | labels |
//! |---|---|---|
//! | [`APP_TOKENS_ISSUED_TOTAL`] `idme_app_tokens_issued_total` | counter | `grant_type`: [`GrantType`] |
//! | [`APP_TOKEN_REJECTIONS_TOTAL`] `idme_app_token_rejections_total` | counter | `reason`: [`Rejection`] |
//!
//! Every token request is an `idme.app_token` span ([`SPAN_APP_TOKEN`]) with the fields
//! `idme.grant_type` and `idme.outcome` (`issued` or a [`Rejection`] value), never a code
//! or a token.

/// Token pairs issued at the token endpoint, by [`GrantType`].
pub const APP_TOKENS_ISSUED_TOTAL: &str = "idme_app_tokens_issued_total";
/// Token requests and bearer tokens refused, by [`Rejection`].
pub const APP_TOKEN_REJECTIONS_TOTAL: &str = "idme_app_token_rejections_total";
/// The label of [`APP_TOKENS_ISSUED_TOTAL`].
pub const LABEL_GRANT_TYPE: &str = "grant_type";
/// The label of [`APP_TOKEN_REJECTIONS_TOTAL`].
pub const LABEL_REASON: &str = "reason";
/// The span of one request to the token endpoint.
pub const SPAN_APP_TOKEN: &str = "idme.app_token";

/// The grant a token request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantType {
    /// RFC 8628's device code.
    DeviceCode,
    /// The authorization code with PKCE of a native app.
    AuthorizationCode,
    /// A refresh token (rotation).
    RefreshToken,
}

impl GrantType {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeviceCode => "device_code",
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
        }
    }
}

/// Why a token request or a bearer token was refused: the `reason` of
/// [`APP_TOKEN_REJECTIONS_TOTAL`].
///
/// The token endpoint's refusals carry the OAuth `error` code they answer with
/// (`authorization_pending` and `slow_down` are a device's normal polling, counted so a
/// dashboard can leave them out); a bearer token's carry [`InvalidToken`](Self::InvalidToken),
/// [`Expired`](Self::Expired) or [`StoreUnavailable`](Self::StoreUnavailable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// Bearer: unknown, revoked, rotated away or malformed.
    InvalidToken,
    /// Bearer: the access token's lifetime is over.
    Expired,
    /// Bearer: the app store could not be read.
    StoreUnavailable,
    /// Token endpoint: `invalid_request`.
    InvalidRequest,
    /// Token endpoint: `invalid_client`.
    InvalidClient,
    /// Token endpoint: `invalid_grant` (an unknown, used, expired or another client's
    /// code or refresh token, a PKCE mismatch).
    InvalidGrant,
    /// Token endpoint: `unsupported_grant_type`.
    UnsupportedGrantType,
    /// Token endpoint: `invalid_scope`.
    InvalidScope,
    /// Token endpoint: `authorization_pending` (the person has not decided yet).
    AuthorizationPending,
    /// Token endpoint: `slow_down` (a device polling too fast).
    SlowDown,
    /// Token endpoint: `access_denied` (the person refused).
    AccessDenied,
    /// Token endpoint: `expired_token` (the device code expired).
    ExpiredToken,
    /// Token endpoint: `temporarily_unavailable` (store down, busy, rate limited).
    TemporarilyUnavailable,
    /// Any other code.
    Other,
}

impl Rejection {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidToken => "invalid_token",
            Self::Expired => "expired",
            Self::StoreUnavailable => "store_unavailable",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::AccessDenied => "access_denied",
            Self::ExpiredToken => "expired_token",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Other => "other",
        }
    }

    /// The rejection of a token endpoint answer with the OAuth error `code`.
    pub(crate) fn of_oauth_code(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "authorization_pending" => Self::AuthorizationPending,
            "slow_down" => Self::SlowDown,
            "access_denied" => Self::AccessDenied,
            "expired_token" => Self::ExpiredToken,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            _ => Self::Other,
        }
    }
}

/// Counts one issued token pair.
pub(crate) fn issued(grant_type: GrantType) {
    ::metrics::counter!(APP_TOKENS_ISSUED_TOTAL, LABEL_GRANT_TYPE => grant_type.as_str())
        .increment(1);
}

/// Counts one refusal.
pub(crate) fn rejected(reason: Rejection) {
    ::metrics::counter!(APP_TOKEN_REJECTIONS_TOTAL, LABEL_REASON => reason.as_str()).increment(1);
}
