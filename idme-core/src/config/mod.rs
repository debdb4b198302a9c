//! Configuration: built in code with [`IdmeBuilder`] or read from the environment contract
//! with [`IdmeBuilder::from_env`], validated once in [`IdmeBuilder::build`].
//!
//! An impossible combination is a startup error whose message says what to change.
//!
//! Three parts around one settings type (`settings`, every setting named once): the
//! builder's setters (`builder`), the environment reader (`env`), and validation
//! (`validate`), which turns the settings into an [`IdmeConfig`].

use std::time::Duration;

use url::Url;

use crate::cookies::CookieKeys;
use crate::secret::ClientSecret;

pub(crate) mod assurance;
mod builder;
pub mod danger;
mod env;
mod events;
pub(crate) mod native;
pub(crate) mod prompt;
mod response;
mod settings;
#[cfg(test)]
mod tests;
mod validate;

pub use crate::config_error::{ConfigError, ConflictRule, Rule, UrlRule};
pub use builder::IdmeBuilder;
pub use events::{DEFAULT_EVENTS_ISSUER, SecurityEventsConfig};
pub use prompt::Prompt;
pub(crate) use prompt::parse_acr_values;
pub(crate) use response::FlowPlan;
pub use response::{ResponseMode, ResponseType};
pub(crate) use validate::is_loopback;

/// Which ID.me installation to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// `https://api.id.me/oidc`.
    Production,
    /// `https://api.idmelabs.com/oidc`.
    Sandbox,
    /// Any other issuer, found through discovery (the testkit emulator, another OpenID provider).
    Custom(String),
}

/// ID.me's production issuer.
pub const PRODUCTION_ISSUER: &str = "https://api.id.me/oidc";
/// ID.me's sandbox issuer.
pub const SANDBOX_ISSUER: &str = "https://api.idmelabs.com/oidc";

impl Environment {
    /// The issuer identifier, exactly as the provider's tokens carry it.
    pub fn issuer(&self) -> &str {
        match self {
            Environment::Production => PRODUCTION_ISSUER,
            Environment::Sandbox => SANDBOX_ISSUER,
            Environment::Custom(issuer) => issuer,
        }
    }

    /// Recognises ID.me's own issuers, so `IDME_ISSUER=https://api.id.me/oidc` means production.
    pub fn from_issuer(issuer: &str) -> Self {
        match issuer.trim_end_matches('/') {
            PRODUCTION_ISSUER => Environment::Production,
            SANDBOX_ISSUER => Environment::Sandbox,
            _ => Environment::Custom(issuer.to_owned()),
        }
    }

    /// Whether this is one of ID.me's own installations (their quirks apply, e.g. the logout URL).
    pub fn is_idme(&self) -> bool {
        !matches!(self, Environment::Custom(_))
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenAuthMethod {
    /// HTTP Basic with the form-urlencoded client id and secret (RFC 6749 §2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A public client (a desktop or command-line app, RFC 8252 §8.4): no secret, only
    /// `client_id` in the form body, PKCE S256 mandatory. Accepted only by
    /// [`IdmeBuilder::build_native`](super::IdmeBuilder::build_native).
    None,
}

impl std::str::FromStr for TokenAuthMethod {
    type Err = crate::ParseError;

    /// Parses `client_secret_basic`, `client_secret_post` or `none` (a public client).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "client_secret_post" => Ok(Self::ClientSecretPost),
            "none" => Ok(Self::None),
            _ => Err(crate::ParseError::not_one_of(
                s,
                "client_secret_basic, client_secret_post, none",
            )),
        }
    }
}

/// Where the engine reads who the user is and what ID.me verified. ID.me documents access
/// tokens as single-use, so every source spends each token on exactly one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UserDataSource {
    /// `Both` when the provider offers `attributes.json` and returned a refresh token;
    /// otherwise `Userinfo` when an access token and a userinfo endpoint exist; otherwise
    /// the ID token alone.
    #[default]
    Auto,
    /// The signed userinfo JWT (identity claims, no verification status).
    Userinfo,
    /// ID.me's `attributes.json` (attributes and verification status).
    Attributes,
    /// Userinfo with the first access token, then a refresh, then `attributes.json` with
    /// the second.
    Both,
    /// Nothing beyond the ID token.
    IdToken,
}

impl std::str::FromStr for UserDataSource {
    type Err = crate::ParseError;

    /// Parses `auto`, `userinfo`, `attributes`, `both`, `id_token` (or `none`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "auto" => Self::Auto,
            "userinfo" => Self::Userinfo,
            "attributes" => Self::Attributes,
            "both" => Self::Both,
            "id_token" | "none" => Self::IdToken,
            _ => {
                return Err(crate::ParseError::not_one_of(
                    s,
                    "auto, userinfo, attributes, both, id_token",
                ));
            }
        })
    }
}

impl UserDataSource {
    /// The concrete source for one login.
    pub(crate) fn resolve(
        self,
        has_refresh: bool,
        has_attributes: bool,
        has_userinfo: bool,
    ) -> Self {
        match self {
            Self::Auto if has_attributes && has_refresh && has_userinfo => Self::Both,
            Self::Auto if has_userinfo => Self::Userinfo,
            Self::Auto if has_attributes => Self::Attributes,
            Self::Auto => Self::IdToken,
            other => other,
        }
    }
}

/// Route paths the adapters mount.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoutePaths {
    /// Starts a login (`/auth/login`).
    pub login: String,
    /// Receives the authorization response; the path of the redirect URI.
    pub callback: String,
    /// Ends the session (`/auth/logout`).
    pub logout: String,
    /// Receives OIDC back-channel logout tokens (`POST /auth/backchannel-logout`).
    pub backchannel_logout: String,
    /// The browser's session as JSON, for a single-page app (`GET /auth/session`).
    pub session: String,
    /// Receives Security Event Tokens (`POST /auth/events`), when
    /// [security events](IdmeBuilder::security_events) are configured.
    pub security_events: String,
}

/// A validated configuration. Build it with [`IdmeBuilder`].
#[derive(Debug, Clone)]
pub struct IdmeConfig {
    pub(crate) environment: Environment,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<ClientSecret>,
    pub(crate) redirect_uri: Url,
    pub(crate) scopes: Vec<String>,
    pub(crate) response_type: ResponseType,
    pub(crate) response_mode: ResponseMode,
    pub(crate) pkce: bool,
    pub(crate) token_auth: TokenAuthMethod,
    pub(crate) cookie_keys: CookieKeys,
    pub(crate) clock_skew: Duration,
    pub(crate) http_timeout: Duration,
    pub(crate) session_lifetime: Duration,
    pub(crate) session_idle_timeout: Option<Duration>,
    pub(crate) refresh_margin: Duration,
    pub(crate) session_store: Option<std::sync::Arc<dyn crate::store::SharedStore>>,
    pub(crate) session_store_cache: Duration,
    pub(crate) login_timeout: Duration,
    pub(crate) post_logout_redirect_uri: Url,
    pub(crate) allow_hmac: bool,
    pub(crate) user_data: UserDataSource,
    pub(crate) attributes_endpoint: Option<String>,
    pub(crate) acr_values: Option<String>,
    pub(crate) prompt: Option<Prompt>,
    pub(crate) max_age: Option<u64>,
    pub(crate) openid: bool,
    pub(crate) decryption_keys: crate::DecryptionKeys,
    pub(crate) jwks_refetch_interval: Duration,
    pub(crate) secure_cookies: bool,
    pub(crate) paths: RoutePaths,
    pub(crate) page_notice: Option<String>,
    /// The application's origin and the trusted ones (the cross-site guard).
    pub(crate) site_origins: crate::cross_site::SiteOrigins,
    /// The security-event receiver, when configured.
    pub(crate) security_events: Option<SecurityEventsConfig>,
    pub(crate) clock: crate::Clock,
}

impl IdmeConfig {
    /// Where the engine reads the time (the system clock unless a test set another).
    pub fn clock(&self) -> &crate::Clock {
        &self.clock
    }
    /// The provider installation.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }
    /// The OAuth client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The exact redirect URI registered with ID.me.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }
    /// Requested scopes (`openid` plus ID.me policies).
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
    /// The OIDC response type.
    pub fn response_type(&self) -> ResponseType {
        self.response_type
    }
    /// The response mode in effect (defaulted per response type when not configured).
    pub fn response_mode(&self) -> ResponseMode {
        self.response_mode
    }
    /// Whether PKCE S256 is sent.
    pub fn pkce(&self) -> bool {
        self.pkce
    }
    /// Token endpoint client authentication.
    pub fn token_auth(&self) -> TokenAuthMethod {
        self.token_auth
    }
    /// Allowed clock skew for `exp` and `iat`.
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }
    /// Timeout of every call to the provider.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }
    /// Whether cookies carry `Secure` (false only for plain-http loopback development).
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }
    /// Absolute session lifetime.
    pub fn session_lifetime(&self) -> Duration {
        self.session_lifetime
    }
    /// Idle session lifetime, if any.
    pub fn session_idle_timeout(&self) -> Option<Duration> {
        self.session_idle_timeout
    }
    /// How long before the access token expires a request refreshes it.
    pub fn refresh_margin(&self) -> Duration {
        self.refresh_margin
    }
    /// How long a session read from the store is used again before reading it again.
    pub fn session_store_cache(&self) -> Duration {
        self.session_store_cache
    }
    /// Whether sessions live in a server-side store (else in the sealed cookie).
    pub fn has_session_store(&self) -> bool {
        self.session_store.is_some()
    }
    /// How long a started login stays valid.
    pub fn login_timeout(&self) -> Duration {
        self.login_timeout
    }
    /// The session cookie's name: `__Host-idme_session` over https (the prefix makes
    /// browsers insist on `Secure`, `Path=/` and no `Domain`), `idme_session` on plain-http
    /// loopback.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-idme_session"
        } else {
            "idme_session"
        }
    }
    /// The keys sealing the engine's cookies, which an extension may seal its own values
    /// with ([`CookieKeys::seal_compact`](crate::CookieKeys::seal_compact)).
    pub fn cookie_keys(&self) -> &crate::CookieKeys {
        &self.cookie_keys
    }

    /// The paths of the login, callback and logout routes.
    pub fn paths(&self) -> &RoutePaths {
        &self.paths
    }
    /// The notice shown at the top of every page the engine renders, if any
    /// (see [`IdmeBuilder::page_notice`]).
    pub fn page_notice(&self) -> Option<&str> {
        self.page_notice.as_deref()
    }

    /// The application's origin (the redirect URI's) and the other origins whose pages
    /// may act with the session cookie ([`IdmeBuilder::trusted_origin`]).
    pub fn site_origins(&self) -> &crate::cross_site::SiteOrigins {
        &self.site_origins
    }

    /// The security-event receiver, when configured ([`IdmeBuilder::security_events`]).
    pub fn security_events(&self) -> Option<&SecurityEventsConfig> {
        self.security_events.as_ref()
    }
}
