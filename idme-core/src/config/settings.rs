//! [`Settings`]: every setting of the builder, each named once here with its type and
//! default. The builder's setters and the environment reader write it; validation
//! ([`IdmeBuilder::build`](super::IdmeBuilder::build)) reads it once into an
//! [`IdmeConfig`](super::IdmeConfig).

use std::sync::Arc;
use std::time::Duration;

use super::{Environment, TokenAuthMethod, UserDataSource};
use crate::config::{Prompt, ResponseMode, ResponseType};
use crate::cookies::CookieKeys;
use crate::secret::ClientSecret;
use crate::store::SharedStore;

/// Declares [`Settings`] and its `Default` from one list of `name: type = default`.
macro_rules! settings {
    ($( $(#[$doc:meta])* $name:ident: $ty:ty = $default:expr, )*) => {
        /// What the builder has been told, before validation. `None` means "not set":
        /// required, or defaulted from other settings, in [`build`](super::IdmeBuilder::build).
        #[derive(Debug, Clone)]
        pub(crate) struct Settings {
            $( $(#[$doc])* pub(crate) $name: $ty, )*
        }

        impl Default for Settings {
            fn default() -> Self {
                Self { $( $name: $default, )* }
            }
        }
    };
}

settings! {
    /// The provider installation (`IDME_ISSUER`).
    environment: Environment = Environment::Production,
    /// The OAuth client id (`IDME_CLIENT_ID`); required.
    client_id: Option<String> = None,
    /// The OAuth client secret (`IDME_CLIENT_SECRET`); required by code flows.
    client_secret: Option<ClientSecret> = None,
    /// The redirect URI exactly as registered (`IDME_REDIRECT_URI`); required.
    redirect_uri: Option<String> = None,
    /// `openid` plus ID.me policy handles (`IDME_SCOPES`).
    scopes: Vec<String> = vec!["openid".into()],
    /// `IDME_RESPONSE_TYPE`.
    response_type: ResponseType = ResponseType::Code,
    /// `IDME_RESPONSE_MODE`; unset: the response type's default mode.
    response_mode: Option<ResponseMode> = None,
    /// `IDME_PKCE`; unset: on for flows returning a code.
    pkce: Option<bool> = None,
    /// `IDME_TOKEN_AUTH`.
    token_auth: TokenAuthMethod = TokenAuthMethod::ClientSecretBasic,
    /// `IDME_COOKIE_KEYS`; unset: one random key (and a warning).
    cookie_keys: Option<CookieKeys> = None,
    /// Allowed clock skew for `exp`/`iat`.
    clock_skew: Duration = Duration::from_secs(60),
    /// `IDME_HTTP_TIMEOUT`: each call to the provider.
    http_timeout: Duration = Duration::from_secs(10),
    /// `IDME_SESSION_LIFETIME`: absolute session lifetime.
    session_lifetime: Duration = Duration::from_secs(8 * 3600),
    /// `IDME_SESSION_IDLE_TIMEOUT`: idle session lifetime.
    session_idle_timeout: Option<Duration> = None,
    /// `IDME_REFRESH_MARGIN`: refresh this long before the access token expires.
    refresh_margin: Duration = Duration::from_secs(60),
    /// Server-side sessions; unset: the session sealed in the cookie.
    session_store: Option<Arc<dyn SharedStore>> = None,
    /// How long a stored session read from the store is used again without reading it
    /// (at most a second, so a logout on another instance takes effect within one).
    session_store_cache: Duration = Duration::from_millis(500),
    /// `IDME_LOGIN_TIMEOUT`: how long a started login stays valid.
    login_timeout: Duration = Duration::from_secs(600),
    /// Where the provider sends the browser after logout; unset: `/` on the redirect
    /// URI's origin.
    post_logout_redirect_uri: Option<String> = None,
    /// Accept HMAC-signed ID tokens keyed with the client secret.
    allow_hmac: bool = false,
    /// `IDME_USER_DATA`.
    user_data: UserDataSource = UserDataSource::Auto,
    /// ID.me's `attributes.json` URL, when it cannot be derived.
    attributes_endpoint: Option<String> = None,
    /// `IDME_ACR_VALUES`.
    acr_values: Option<String> = None,
    /// `IDME_PROMPT`.
    prompt: Option<Prompt> = None,
    /// `IDME_MAX_AGE`.
    max_age: Option<Duration> = None,
    /// `IDME_DECRYPTION_KEY_FILE`: keys for encrypted ID tokens and userinfo.
    decryption_keys: crate::DecryptionKeys = crate::DecryptionKeys::none(),
    /// Minimum time between two JWKS refetches caused by an unknown `kid`.
    jwks_refetch_interval: Duration = Duration::from_secs(30),
    /// The login route.
    login_path: String = "/auth/login".into(),
    /// The logout route.
    logout_path: String = "/auth/logout".into(),
    /// The back-channel logout route.
    backchannel_logout_path: String = "/auth/backchannel-logout".into(),
    /// The session route (JSON, for single-page apps).
    session_path: String = "/auth/session".into(),
    /// The notice on every page the engine renders.
    page_notice: Option<String> = None,
    /// `IDME_EVENTS_AUDIENCE`: turns the security-event receiver on.
    events_audience: Option<String> = None,
    /// `IDME_EVENTS_JWKS_URL`: the transmitter's keys.
    events_jwks_url: Option<String> = None,
    /// `IDME_EVENTS_ISSUER`: the transmitter's issuer.
    events_issuer: String = super::DEFAULT_EVENTS_ISSUER.into(),
    /// The security-event receiver's route.
    events_path: String = "/auth/events".into(),
    /// The application's security-event hook.
    events_handler: Option<crate::events::SharedHandler> = None,
    /// Origins besides the application's own whose pages may act with the session cookie.
    trusted_origins: Vec<String> = Vec::new(),
    /// Where the engine reads the time (tests only set another).
    clock: crate::Clock = crate::Clock::system(),
}

/// The checks that [`dangerous`](super::IdmeBuilder::dangerous) relaxed; `build` reads
/// them. All off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Relaxed {
    /// A clock skew above the five-minute bound is accepted.
    pub(crate) clock_skew: bool,
}
