//! The engine's metrics: stable names and bounded label values, recorded through the
//! [`metrics`](https://docs.rs/metrics) facade.
//!
//! Nothing is recorded anywhere until the application installs a recorder (for example
//! `metrics-exporter-prometheus`'s `PrometheusBuilder::new().install_recorder()`); without
//! one every call below is a no-op. Every label value is one of the `as_str` values of an
//! enum of this module: never a user's id, a token, a URL or any other free text, so the
//! number of series stays fixed.
//!
//! | name | type | labels |
//! |---|---|---|
//! | [`SIGN_INS_TOTAL`] `idme_sign_ins_total` | counter | `outcome`: [`SignInOutcome`] |
//! | [`REFRESHES_TOTAL`] `idme_refreshes_total` | counter | `outcome`: [`RefreshOutcome`] |
//! | [`PROVIDER_REQUEST_DURATION_SECONDS`] `idme_provider_request_duration_seconds` | histogram (seconds) | `endpoint`: `discovery`, `jwks`, `token`, `userinfo`, `attributes`, `policies` |
//! | [`STORE_ERRORS_TOTAL`] `idme_store_errors_total` | counter | `operation`: [`StoreOperation`] |
//! | [`SESSIONS_ENDED_TOTAL`] `idme_sessions_ended_total` | counter | `reason`: [`EndReason`] |
//!
//! `idme-apps` adds `idme_app_tokens_issued_total{grant_type}` and
//! `idme_app_token_rejections_total{reason}` (see its `metrics` module).
//!
//! The engine's spans (with `tracing`) are named [`SPAN_SIGN_IN`], [`SPAN_REFRESH`],
//! [`SPAN_LOGOUT`] and [`SPAN_PROVIDER_REQUEST`]; each records its outcome in the field
//! [`FIELD_OUTCOME`] (the same values as the metric labels).

/// Completed callbacks, by [`SignInOutcome`].
pub const SIGN_INS_TOTAL: &str = "idme_sign_ins_total";
/// Token refreshes at the provider, by [`RefreshOutcome`].
pub const REFRESHES_TOTAL: &str = "idme_refreshes_total";
/// How long each call to the provider took (seconds, until the whole answer was read),
/// by `endpoint` (`discovery`, `jwks`, `token`, `userinfo`, `attributes`, `policies`).
pub const PROVIDER_REQUEST_DURATION_SECONDS: &str = "idme_provider_request_duration_seconds";
/// Failed calls to the configured session store, by [`StoreOperation`].
pub const STORE_ERRORS_TOTAL: &str = "idme_store_errors_total";
/// Sessions ended, by [`EndReason`]: one per ending event (a logout, an accepted
/// back-channel logout token, a security event, an expired session refused).
pub const SESSIONS_ENDED_TOTAL: &str = "idme_sessions_ended_total";

/// The label of [`SIGN_INS_TOTAL`] and [`REFRESHES_TOTAL`] (and the spans' outcome).
pub const LABEL_OUTCOME: &str = "outcome";
/// The label of [`PROVIDER_REQUEST_DURATION_SECONDS`].
pub const LABEL_ENDPOINT: &str = "endpoint";
/// The label of [`STORE_ERRORS_TOTAL`].
pub const LABEL_OPERATION: &str = "operation";
/// The label of [`SESSIONS_ENDED_TOTAL`].
pub const LABEL_REASON: &str = "reason";

/// The span of one callback (a sign-in), parent of its provider requests.
pub const SPAN_SIGN_IN: &str = "idme.sign_in";
/// The span of one token refresh at the provider.
pub const SPAN_REFRESH: &str = "idme.refresh";
/// The span of one logout (the person's, or the provider's back-channel one).
pub const SPAN_LOGOUT: &str = "idme.logout";
/// The span of one call to the provider, with `idme.endpoint`, `http.request.method`,
/// `server.address`, `url.path` (never the query), `http.response.status_code`,
/// `error.type` and `idme.duration_ms`.
pub const SPAN_PROVIDER_REQUEST: &str = "idme.provider_request";
/// The field every span above records its outcome in.
pub const FIELD_OUTCOME: &str = "idme.outcome";

/// How a callback ended: the `outcome` of [`SIGN_INS_TOTAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignInOutcome {
    /// Signed in: a session was made (and saved, with a store).
    Success,
    /// The person cancelled at ID.me (`error=access_denied`).
    AccessDenied,
    /// A `prompt=none` login needed the person to interact.
    LoginRequired,
    /// No usable pending login for the callback's `state` (missing, mismatched, tampered
    /// with, another browser's).
    InvalidState,
    /// The login was started too long ago.
    Expired,
    /// The login had already been completed (a replayed callback).
    Replayed,
    /// Unparseable parameters, or the wrong response mode.
    InvalidRequest,
    /// The provider refused (an OAuth error on the redirect or at the token endpoint).
    ProviderError,
    /// The provider could not be reached, was too slow or answered garbage.
    ProviderUnavailable,
    /// A token or answer of the provider failed a check (signature, issuer, audience,
    /// nonce, hashes, …).
    InvalidToken,
    /// The session store failed.
    StoreUnavailable,
    /// Anything else (configuration, misuse).
    Other,
}

impl SignInOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::InvalidState => "invalid_state",
            Self::Expired => "expired",
            Self::Replayed => "replayed",
            Self::InvalidRequest => "invalid_request",
            Self::ProviderError => "provider_error",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::InvalidToken => "invalid_token",
            Self::StoreUnavailable => "store_unavailable",
            Self::Other => "other",
        }
    }
}

/// How a token refresh at the provider ended: the `outcome` of [`REFRESHES_TOTAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefreshOutcome {
    /// New tokens (saved, with a store).
    Success,
    /// The provider refused the grant: the session ends.
    Refused,
    /// The provider could not be used: the session is kept and retried later.
    ProviderUnavailable,
    /// The refreshed session could not be saved, or the store could not be locked.
    StoreUnavailable,
    /// The session ended (a logout) while the refresh was running; not re-created.
    SessionEnded,
}

impl RefreshOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Refused => "refused",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::StoreUnavailable => "store_unavailable",
            Self::SessionEnded => "session_ended",
        }
    }
}

/// The session store call that failed: the `operation` of [`STORE_ERRORS_TOTAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreOperation {
    /// `SessionStore::load`.
    Load,
    /// `SessionStore::save`.
    Save,
    /// `SessionStore::update`.
    Update,
    /// `SessionStore::delete`.
    Delete,
    /// `SessionIndex::delete_by_sub`.
    DeleteBySub,
    /// `SessionIndex::delete_by_provider_sid`.
    DeleteByProviderSid,
    /// `LockingStore::lock`.
    Lock,
    /// `LockingStore::release`.
    Release,
}

impl StoreOperation {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Load => "load",
            Self::Save => "save",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::DeleteBySub => "delete_by_sub",
            Self::DeleteByProviderSid => "delete_by_provider_sid",
            Self::Lock => "lock",
            Self::Release => "release",
        }
    }
}

/// Why sessions ended: the `reason` of [`SESSIONS_ENDED_TOTAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndReason {
    /// The person signed out of one browser.
    Logout,
    /// The person signed out everywhere.
    LogoutEverywhere,
    /// The provider signed the person out (OIDC back-channel logout).
    Backchannel,
    /// A security event (a Shared Signals receiver) ended them.
    SecurityEvent,
    /// A session past its idle or absolute lifetime was refused.
    Expiry,
}

impl EndReason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::LogoutEverywhere => "logout_everywhere",
            Self::Backchannel => "backchannel",
            Self::SecurityEvent => "security_event",
            Self::Expiry => "expiry",
        }
    }
}

/// Counts one completed callback.
pub(crate) fn sign_in(outcome: SignInOutcome) {
    ::metrics::counter!(SIGN_INS_TOTAL, LABEL_OUTCOME => outcome.as_str()).increment(1);
}

/// Counts one refresh at the provider.
pub(crate) fn refresh(outcome: RefreshOutcome) {
    ::metrics::counter!(REFRESHES_TOTAL, LABEL_OUTCOME => outcome.as_str()).increment(1);
}

/// Records how long a call to the provider's `endpoint` (an `Endpoint::as_str`) took.
pub(crate) fn provider_request(endpoint: &'static str, elapsed: std::time::Duration) {
    ::metrics::histogram!(PROVIDER_REQUEST_DURATION_SECONDS, LABEL_ENDPOINT => endpoint)
        .record(elapsed.as_secs_f64());
}

/// Counts one failed session store call.
pub(crate) fn store_error(operation: StoreOperation) {
    ::metrics::counter!(STORE_ERRORS_TOTAL, LABEL_OPERATION => operation.as_str()).increment(1);
}

/// Counts one ending of sessions for `reason`. Public for the receivers built on the
/// engine (a security-event receiver records [`EndReason::SecurityEvent`]).
pub fn sessions_ended(reason: EndReason) {
    ::metrics::counter!(SESSIONS_ENDED_TOTAL, LABEL_REASON => reason.as_str()).increment(1);
}
