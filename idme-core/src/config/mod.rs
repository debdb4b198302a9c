//! Configuration: built in code with [`IdmeBuilder`] or read from the environment contract
//! with [`IdmeBuilder::from_env`], validated once in [`IdmeBuilder::build`].
//!
//! An impossible combination is a startup error whose message says what to change.

use std::time::Duration;

use url::Url;

use crate::cookies::CookieKeys;
use crate::error::Error;
use crate::flow::{ResponseMode, ResponseType};
use crate::secret::ClientSecret;

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
}

impl TokenAuthMethod {
    /// Parses `client_secret_basic` or `client_secret_post`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "client_secret_basic" => Some(Self::ClientSecretBasic),
            "client_secret_post" => Some(Self::ClientSecretPost),
            _ => None,
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

impl UserDataSource {
    /// Parses `auto`, `userinfo`, `attributes`, `both`, `id_token`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "auto" => Self::Auto,
            "userinfo" => Self::Userinfo,
            "attributes" => Self::Attributes,
            "both" => Self::Both,
            "id_token" | "none" => Self::IdToken,
            _ => return None,
        })
    }

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
pub struct RoutePaths {
    /// Starts a login (`/auth/login`).
    pub login: String,
    /// Receives the authorization response; the path of the redirect URI.
    pub callback: String,
    /// Ends the session (`/auth/logout`).
    pub logout: String,
    /// Receives OIDC back-channel logout tokens (`POST /auth/backchannel-logout`).
    pub backchannel_logout: String,
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
    pub(crate) session_store: Option<std::sync::Arc<dyn crate::session::store::SessionStore>>,
    pub(crate) login_timeout: Duration,
    pub(crate) post_logout_redirect_uri: Url,
    pub(crate) allow_hmac: bool,
    pub(crate) user_data: UserDataSource,
    pub(crate) attributes_endpoint: Option<String>,
    pub(crate) acr_values: Option<String>,
    pub(crate) prompt: Option<crate::flow::Prompt>,
    pub(crate) max_age: Option<u64>,
    pub(crate) openid: bool,
    pub(crate) decryption_keys: crate::DecryptionKeys,
    pub(crate) jwks_refetch_interval: Duration,
    pub(crate) secure_cookies: bool,
    pub(crate) paths: RoutePaths,
    pub(crate) page_notice: Option<String>,
}

impl IdmeConfig {
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
    /// The paths of the login, callback and logout routes.
    pub fn paths(&self) -> &RoutePaths {
        &self.paths
    }
    /// The notice shown at the top of every page the engine renders, if any
    /// (see [`IdmeBuilder::page_notice`]).
    pub fn page_notice(&self) -> Option<&str> {
        self.page_notice.as_deref()
    }
}

/// Builds an [`IdmeConfig`]. Required: client id, redirect URI, and a client secret for code flows.
#[derive(Debug, Clone)]
pub struct IdmeBuilder {
    environment: Environment,
    client_id: Option<String>,
    client_secret: Option<ClientSecret>,
    redirect_uri: Option<String>,
    scopes: Vec<String>,
    response_type: ResponseType,
    response_mode: Option<ResponseMode>,
    pkce: Option<bool>,
    token_auth: TokenAuthMethod,
    cookie_keys: Option<CookieKeys>,
    clock_skew: Duration,
    http_timeout: Duration,
    session_lifetime: Duration,
    session_idle_timeout: Option<Duration>,
    refresh_margin: Duration,
    session_store: Option<std::sync::Arc<dyn crate::session::store::SessionStore>>,
    login_timeout: Duration,
    post_logout_redirect_uri: Option<String>,
    allow_hmac: bool,
    user_data: UserDataSource,
    attributes_endpoint: Option<String>,
    acr_values: Option<String>,
    prompt: Option<crate::flow::Prompt>,
    max_age: Option<Duration>,
    decryption_keys: crate::DecryptionKeys,
    jwks_refetch_interval: Duration,
    login_path: String,
    logout_path: String,
    backchannel_logout_path: String,
    page_notice: Option<String>,
}

impl Default for IdmeBuilder {
    fn default() -> Self {
        Self {
            environment: Environment::Production,
            client_id: None,
            client_secret: None,
            redirect_uri: None,
            scopes: vec!["openid".into()],
            response_type: ResponseType::Code,
            response_mode: None,
            pkce: None,
            token_auth: TokenAuthMethod::default(),
            cookie_keys: None,
            clock_skew: Duration::from_secs(60),
            http_timeout: Duration::from_secs(10),
            session_lifetime: Duration::from_secs(8 * 3600),
            session_idle_timeout: None,
            refresh_margin: Duration::from_secs(60),
            session_store: None,
            login_timeout: Duration::from_secs(600),
            post_logout_redirect_uri: None,
            allow_hmac: false,
            user_data: UserDataSource::Auto,
            attributes_endpoint: None,
            acr_values: None,
            prompt: None,
            max_age: None,
            decryption_keys: crate::DecryptionKeys::none(),
            jwks_refetch_interval: Duration::from_secs(30),
            login_path: "/auth/login".into(),
            logout_path: "/auth/logout".into(),
            backchannel_logout_path: "/auth/backchannel-logout".into(),
            page_notice: None,
        }
    }
}

const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

impl IdmeBuilder {
    /// A builder for ID.me production with `scope=openid` and the authorization code flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the environment contract: `IDME_ISSUER`, `IDME_CLIENT_ID`, `IDME_CLIENT_SECRET`,
    /// `IDME_REDIRECT_URI`, `IDME_SCOPES`, `IDME_RESPONSE_TYPE`, `IDME_RESPONSE_MODE`,
    /// `IDME_PKCE`, `IDME_TOKEN_AUTH`, `IDME_COOKIE_KEYS`, `IDME_PROMPT`, `IDME_MAX_AGE`,
    /// and the durations in seconds
    /// `IDME_HTTP_TIMEOUT`, `IDME_LOGIN_TIMEOUT`, `IDME_SESSION_LIFETIME`. Unset variables keep their
    /// defaults; a malformed one is an error naming the variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (for tests and
    /// other configuration sources).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let mut b = Self::new();
        if let Some(issuer) = lookup("IDME_ISSUER") {
            b.environment = Environment::from_issuer(issuer.trim());
        }
        if let Some(id) = lookup("IDME_CLIENT_ID") {
            b.client_id = Some(id.trim().to_owned());
        }
        if let Some(secret) = lookup("IDME_CLIENT_SECRET") {
            b.client_secret = Some(ClientSecret::new(secret.trim()));
        }
        if let Some(uri) = lookup("IDME_REDIRECT_URI") {
            b.redirect_uri = Some(uri.trim().to_owned());
        }
        if let Some(scopes) = lookup("IDME_SCOPES") {
            // Policy short names (`ial2`, `loa3`) become ID.me's handles.
            b.scopes = scopes
                .split_whitespace()
                .map(|s| match s {
                    "openid" => s.to_owned(),
                    other => crate::verification::Policy::parse(other)
                        .handle()
                        .to_owned(),
                })
                .collect();
        }
        if let Some(source) = lookup("IDME_USER_DATA") {
            b.user_data = UserDataSource::parse(&source).ok_or_else(|| {
                Error::config(format!(
                    "IDME_USER_DATA={source:?} is not one of: auto, userinfo, attributes, both, id_token"
                ))
            })?;
        }
        if let Some(files) = lookup("IDME_DECRYPTION_KEY_FILE") {
            b.decryption_keys = crate::DecryptionKeys::from_file_list(&files)?;
        }
        if let Some(acr) = lookup("IDME_ACR_VALUES") {
            b.acr_values = Some(acr.trim().to_owned());
        }
        (b.prompt, b.max_age) = crate::flow::prompt::from_lookup(&lookup)?;
        if let Some(rt) = lookup("IDME_RESPONSE_TYPE") {
            b.response_type = ResponseType::parse(&rt).ok_or_else(|| {
                Error::config(format!(
                    "IDME_RESPONSE_TYPE={rt:?} is not one of: code, id_token, code id_token, \
                     code token, id_token token, code id_token token, token"
                ))
            })?;
        }
        if let Some(rm) = lookup("IDME_RESPONSE_MODE") {
            b.response_mode = Some(ResponseMode::parse(&rm).ok_or_else(|| {
                Error::config(format!(
                    "IDME_RESPONSE_MODE={rm:?} is not one of: query, fragment, form_post"
                ))
            })?);
        }
        if let Some(pkce) = lookup("IDME_PKCE") {
            b.pkce = Some(match pkce.trim() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => {
                    return Err(Error::config(format!(
                        "IDME_PKCE={other:?} must be true or false"
                    )));
                }
            });
        }
        if let Some(auth) = lookup("IDME_TOKEN_AUTH") {
            b.token_auth = TokenAuthMethod::parse(&auth).ok_or_else(|| {
                Error::config(format!(
                    "IDME_TOKEN_AUTH={auth:?} must be client_secret_basic or client_secret_post"
                ))
            })?;
        }
        for (var, field) in [
            ("IDME_HTTP_TIMEOUT", &mut b.http_timeout),
            ("IDME_LOGIN_TIMEOUT", &mut b.login_timeout),
            ("IDME_SESSION_LIFETIME", &mut b.session_lifetime),
            ("IDME_REFRESH_MARGIN", &mut b.refresh_margin),
        ] {
            if let Some(v) = lookup(var) {
                let secs: f64 = v.trim().parse().map_err(|_| {
                    Error::config(format!("{var}={v:?} must be a number of seconds"))
                })?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(Error::config(format!("{var}={v:?} must be positive")));
                }
                *field = Duration::from_secs_f64(secs);
            }
        }
        if let Some(v) = lookup("IDME_SESSION_IDLE_TIMEOUT") {
            let secs: f64 = v.trim().parse().map_err(|_| {
                Error::config(format!(
                    "IDME_SESSION_IDLE_TIMEOUT={v:?} must be a number of seconds"
                ))
            })?;
            if !(secs.is_finite() && secs >= 60.0) {
                return Err(Error::config(format!(
                    "IDME_SESSION_IDLE_TIMEOUT={v:?} must be at least 60 seconds"
                )));
            }
            b.session_idle_timeout = Some(Duration::from_secs_f64(secs));
        }
        if let Some(keys) = lookup("IDME_COOKIE_KEYS") {
            b.cookie_keys = Some(
                CookieKeys::from_base64_list(&keys)
                    .map_err(|e| Error::config(format!("IDME_COOKIE_KEYS: {e}")))?,
            );
        }
        Ok(b)
    }

    /// The provider installation (default: production).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }
    /// The OAuth client id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }
    /// Whether a client id has been set.
    pub fn has_client_id(&self) -> bool {
        self.client_id.is_some()
    }
    /// The OAuth client secret.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(ClientSecret::new(secret));
        self
    }
    /// The redirect URI, exactly as registered with ID.me (no query, no fragment).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }
    /// Sets the redirect URI only if none was set (for example by `IDME_REDIRECT_URI`).
    pub fn default_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        if self.redirect_uri.is_none() {
            self.redirect_uri = Some(uri.into());
        }
        self
    }
    /// The redirect URI set so far, if any.
    pub fn redirect_uri_value(&self) -> Option<&str> {
        self.redirect_uri.as_deref()
    }
    /// Scopes: `openid` plus ID.me policy handles (`military`, `student`, …).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
    /// The response type (default `code`).
    pub fn response_type(mut self, rt: ResponseType) -> Self {
        self.response_type = rt;
        self
    }
    /// The response mode (default per OIDC: `query` for `code`, `fragment` otherwise).
    pub fn response_mode(mut self, rm: ResponseMode) -> Self {
        self.response_mode = Some(rm);
        self
    }
    /// PKCE S256 for code flows (default on; only meaningful for flows returning a code).
    pub fn pkce(mut self, on: bool) -> Self {
        self.pkce = Some(on);
        self
    }
    /// Token endpoint client authentication (default `client_secret_basic`).
    pub fn token_auth(mut self, method: TokenAuthMethod) -> Self {
        self.token_auth = method;
        self
    }
    /// Keys sealing the cookies: the first seals, all open. Default: one random key
    /// (sessions do not survive a restart; a warning is logged).
    pub fn cookie_keys(mut self, keys: CookieKeys) -> Self {
        self.cookie_keys = Some(keys);
        self
    }
    /// Allowed clock skew for `exp`/`iat` (default 60 s, at most 5 minutes; more is in
    /// [`dangerous`](Self::dangerous)).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }
    /// Timeout for each call to the provider (default 10 s).
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }
    /// Idle session lifetime: a session unused this long ends (default: none; at least
    /// 60 s). The last-seen time is re-issued at most once a minute, so a session may end
    /// up to a minute early.
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.session_idle_timeout = Some(timeout);
        self
    }

    /// How long before the access token expires a request refreshes it with the refresh
    /// token (default 60 s).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Keeps sessions server-side in `store`; the cookie then holds only a sealed random
    /// id. Default: the whole session sealed in the cookie. Share the store (and
    /// `IDME_COOKIE_KEYS`) between instances so a session works, and ends, on all of them.
    pub fn session_store(mut self, store: impl crate::session::store::SessionStore) -> Self {
        self.session_store = Some(std::sync::Arc::new(store));
        self
    }

    /// Absolute session lifetime (default 8 hours).
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = lifetime;
        self
    }
    /// How long a started login may take before its callback is refused (default 10
    /// minutes, at most 30).
    pub fn login_timeout(mut self, timeout: Duration) -> Self {
        self.login_timeout = timeout;
        self
    }
    /// Where the provider sends the browser after logout (default: `/` on the redirect URI's origin).
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uri = Some(uri.into());
        self
    }
    /// Whether to read userinfo after sign-in (`false`: the ID token alone; `true`: the
    /// default [`UserDataSource::Auto`]).
    pub fn fetch_userinfo(mut self, on: bool) -> Self {
        self.user_data = if on {
            UserDataSource::Auto
        } else {
            UserDataSource::IdToken
        };
        self
    }
    /// Where to read the user's claims and verification status (default
    /// [`UserDataSource::Auto`]).
    pub fn user_data(mut self, source: UserDataSource) -> Self {
        self.user_data = source;
        self
    }
    /// ID.me's `attributes.json` URL, when it cannot be derived from the userinfo endpoint.
    pub fn attributes_endpoint(mut self, url: impl Into<String>) -> Self {
        self.attributes_endpoint = Some(url.into());
        self
    }
    /// The RP's private keys for encrypted ID tokens and userinfo (ID.me encrypts to the
    /// certificate registered for the client).
    pub fn decryption_keys(mut self, keys: crate::DecryptionKeys) -> Self {
        self.decryption_keys = keys;
        self
    }
    /// `acr_values` sent on the authorization request (e.g. an IAL2 assurance URI).
    pub fn acr_values(mut self, acr: impl Into<String>) -> Self {
        self.acr_values = Some(acr.into());
        self
    }
    /// `prompt` on every login (`IDME_PROMPT`; a login's own
    /// [`LoginOptions::prompt`](crate::LoginOptions::prompt) wins). With `offline_access`
    /// in the scopes, `consent` is always added (OIDC Core §11).
    pub fn prompt(mut self, prompt: crate::flow::Prompt) -> Self {
        self.prompt = Some(prompt);
        self
    }
    /// `max_age` on every login (`IDME_MAX_AGE`, whole seconds): the ID token must then
    /// carry an `auth_time` no older than this (plus the clock skew).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }
    /// Adds ID.me policies to the scopes (`openid` stays).
    pub fn policies<I>(mut self, policies: I) -> Self
    where
        I: IntoIterator<Item = crate::verification::Policy>,
    {
        for p in policies {
            let h = p.handle().to_owned();
            if !self.scopes.contains(&h) {
                self.scopes.push(h);
            }
        }
        self
    }
    /// Accept HS256/384/512 ID tokens keyed with the client secret (off by default).
    pub fn allow_hmac_id_tokens(mut self, on: bool) -> Self {
        self.allow_hmac = on;
        self
    }
    /// Minimum time between two JWKS refetches caused by an unknown `kid` (default 30 s).
    pub fn jwks_refetch_interval(mut self, interval: Duration) -> Self {
        self.jwks_refetch_interval = interval;
        self
    }
    /// Paths of the login and logout routes (default `/auth/login`, `/auth/logout`); the
    /// callback path is the redirect URI's.
    pub fn route_paths(mut self, login: impl Into<String>, logout: impl Into<String>) -> Self {
        self.login_path = login.into();
        self.logout_path = logout.into();
        self
    }
    /// Path of the OIDC back-channel logout route (default `/auth/backchannel-logout`);
    /// register its absolute URL at the provider as the client's
    /// `backchannel_logout_uri`.
    pub fn backchannel_logout_path(mut self, path: impl Into<String>) -> Self {
        self.backchannel_logout_path = path.into();
        self
    }
    /// A plain-text notice shown at the top of every HTML page the engine renders (error,
    /// access-denied, verification-required and fragment relay pages), HTML-escaped; for
    /// example "Offline emulator: not ID.me" in a development mode. Default: none.
    pub fn page_notice(mut self, text: impl Into<String>) -> Self {
        self.page_notice = Some(text.into()).filter(|t| !t.trim().is_empty());
        self
    }
    /// Options that weaken security, for tests only.
    pub fn dangerous(self) -> crate::danger::DangerousIdmeBuilder {
        crate::danger::DangerousIdmeBuilder { inner: self }
    }
    pub(crate) fn set_clock_skew_unchecked(&mut self, skew: Duration) {
        self.clock_skew = skew;
    }
    /// Returns the configured skew and resets it to a value that passes `build`'s bound.
    pub(crate) fn take_clock_skew_for_danger(&mut self) -> Duration {
        std::mem::replace(&mut self.clock_skew, Duration::ZERO)
    }

    /// Validates and builds the configuration.
    pub fn build(self) -> Result<IdmeConfig, Error> {
        let client_id = self.client_id.filter(|s| !s.is_empty()).ok_or_else(|| {
            Error::config("IDME_CLIENT_ID is required: the client id ID.me issued for this app")
        })?;

        let issuer = self.environment.issuer();
        let issuer_url = Url::parse(issuer)
            .map_err(|e| Error::config(format!("IDME_ISSUER={issuer:?} is not a URL: {e}")))?;
        check_https_or_loopback(&issuer_url, "IDME_ISSUER")?;
        if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
            return Err(Error::config(
                "IDME_ISSUER must not contain a query or fragment",
            ));
        }

        let redirect = self.redirect_uri.ok_or_else(|| {
            Error::config("IDME_REDIRECT_URI is required: the exact callback URL registered with ID.me, e.g. https://app.example/auth/callback")
        })?;
        let redirect_uri = Url::parse(&redirect).map_err(|e| {
            Error::config(format!(
                "IDME_REDIRECT_URI={redirect:?} is not an absolute URL: {e}"
            ))
        })?;
        check_https_or_loopback(&redirect_uri, "IDME_REDIRECT_URI")?;
        if redirect_uri.query().is_some() || redirect_uri.fragment().is_some() {
            return Err(Error::config(
                "IDME_REDIRECT_URI must not contain a query or fragment: ID.me matches redirect URIs exactly",
            ));
        }
        let secure_cookies = redirect_uri.scheme() == "https";
        if !secure_cookies {
            tracing::warn!(
                target: "idme::config",
                "redirect URI is plain http on loopback: cookies are sent without `Secure` (development only)"
            );
        }

        let rt = self.response_type;
        let response_mode = self.response_mode.unwrap_or(rt.default_mode());
        if response_mode == ResponseMode::Query && rt.returns_tokens_in_front_channel() {
            return Err(Error::config(format!(
                "IDME_RESPONSE_MODE=query cannot carry the tokens of response type `{}`: use fragment or form_post",
                rt.as_str()
            )));
        }
        let pkce = match (self.pkce, rt.returns_code()) {
            (Some(true), false) => {
                return Err(Error::config(format!(
                    "IDME_PKCE=true has no effect with response type `{}`, which returns no code: remove it or choose a code flow",
                    rt.as_str()
                )));
            }
            (Some(p), true) => p,
            (None, code) => code,
            (Some(false), false) => false,
        };
        let openid = self.scopes.iter().any(|s| s == "openid");
        if !openid && !matches!(rt, ResponseType::Code | ResponseType::Token) {
            return Err(Error::config(format!(
                "IDME_SCOPES without `openid` (OAuth mode) works only with IDME_RESPONSE_TYPE=code or token, not `{}`: add openid or use code",
                rt.as_str()
            )));
        }
        if openid && rt == ResponseType::Token {
            return Err(Error::config(
                "IDME_RESPONSE_TYPE=token is OAuth without an ID token: remove `openid` from IDME_SCOPES (the user is then identified by attributes.json), or use an OpenID Connect response type",
            ));
        }
        crate::flow::assurance::check_config(&self.scopes, rt)?;
        if self.scopes.is_empty() {
            return Err(Error::config(
                "IDME_SCOPES is empty: use `openid`, optionally with ID.me policies (e.g. \"openid military\")",
            ));
        }
        let user_data = if openid {
            self.user_data
        } else {
            match self.user_data {
                UserDataSource::Auto | UserDataSource::Attributes => UserDataSource::Attributes,
                other => {
                    return Err(Error::config(format!(
                        "IDME_USER_DATA={other:?} needs an ID token: without `openid` in IDME_SCOPES only attributes can identify the user"
                    )));
                }
            }
        };
        let client_secret = self.client_secret.filter(|s| !s.secret().is_empty());
        if rt.returns_code() && client_secret.is_none() {
            return Err(Error::config(
                "IDME_CLIENT_SECRET is required for flows that exchange a code at the token endpoint",
            ));
        }
        if self.clock_skew > MAX_CLOCK_SKEW {
            return Err(Error::config(
                "clock skew above 5 minutes weakens expiry checks; use dangerous().insecure_clock_skew() in tests",
            ));
        }
        if self
            .session_idle_timeout
            .is_some_and(|t| t < Duration::from_secs(60))
        {
            return Err(Error::config(
                "session idle timeout must be at least 60 seconds",
            ));
        }
        if self.session_lifetime.is_zero() {
            return Err(Error::config("session lifetime must be positive"));
        }
        if self.login_timeout.is_zero() || self.login_timeout > Duration::from_secs(1800) {
            return Err(Error::config(
                "login timeout must be between 1 second and 30 minutes",
            ));
        }
        if self.http_timeout.is_zero() {
            return Err(Error::config("HTTP timeout must be positive"));
        }
        let max_age = crate::flow::prompt::check_max_age(self.max_age)?;

        let post_logout_redirect_uri = match self.post_logout_redirect_uri {
            Some(u) => Url::parse(&u).map_err(|e| {
                Error::config(format!("post-logout redirect URI {u:?} is not a URL: {e}"))
            })?,
            None => {
                let mut u = redirect_uri.clone();
                u.set_path("/");
                u
            }
        };

        for (name, path) in [
            ("login", &self.login_path),
            ("logout", &self.logout_path),
            ("back-channel logout", &self.backchannel_logout_path),
        ] {
            if !path.starts_with('/') {
                return Err(Error::config(format!("{name} path must start with '/'")));
            }
        }
        let paths = RoutePaths {
            login: self.login_path,
            callback: redirect_uri.path().to_owned(),
            logout: self.logout_path,
            backchannel_logout: self.backchannel_logout_path,
        };

        let cookie_keys = match self.cookie_keys {
            Some(k) => k,
            None => {
                tracing::warn!(
                    target: "idme::config",
                    "IDME_COOKIE_KEYS is not set: using a random key, so sessions end when the process restarts and instances cannot share them"
                );
                CookieKeys::random()
            }
        };

        // Every sealed value is bound to this issuer and client.
        let cookie_keys =
            cookie_keys.bound_to(self.environment.issuer().trim_end_matches('/'), &client_id);
        Ok(IdmeConfig {
            environment: self.environment,
            client_id,
            client_secret,
            redirect_uri,
            scopes: self.scopes,
            response_type: rt,
            response_mode,
            pkce,
            token_auth: self.token_auth,
            cookie_keys,
            clock_skew: self.clock_skew,
            http_timeout: self.http_timeout,
            session_lifetime: self.session_lifetime,
            session_idle_timeout: self.session_idle_timeout,
            refresh_margin: self.refresh_margin,
            session_store: self.session_store,
            login_timeout: self.login_timeout,
            post_logout_redirect_uri,
            allow_hmac: self.allow_hmac,
            user_data,
            attributes_endpoint: self.attributes_endpoint,
            acr_values: self.acr_values,
            prompt: self.prompt,
            max_age,
            decryption_keys: self.decryption_keys,
            openid,
            jwks_refetch_interval: self.jwks_refetch_interval,
            secure_cookies,
            paths,
            page_notice: self.page_notice,
        })
    }
}

/// `https`, or `http` on a loopback host only.
fn check_https_or_loopback(url: &Url, what: &str) -> Result<(), Error> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(Error::config(format!(
            "{what}={url} uses plain http off loopback: use https (http is allowed only for 127.0.0.1, [::1] or localhost)"
        ))),
        other => Err(Error::config(format!(
            "{what}={url} has scheme {other:?}: use https"
        ))),
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Result<IdmeConfig, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        IdmeBuilder::from_lookup(|k| map.get(k).cloned())?
            .cookie_keys(CookieKeys::random())
            .build()
    }

    const BASE: &[(&str, &str)] = &[
        ("IDME_CLIENT_ID", "cid"),
        ("IDME_CLIENT_SECRET", "secret"),
        ("IDME_REDIRECT_URI", "https://app.example/auth/callback"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v = BASE.to_vec();
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn defaults_from_env() {
        let c = env(BASE).unwrap();
        assert_eq!(c.environment, Environment::Production);
        assert_eq!(c.response_type, ResponseType::Code);
        assert_eq!(c.response_mode, ResponseMode::Query);
        assert!(c.pkce);
        assert!(c.secure_cookies);
        assert_eq!(c.paths.callback, "/auth/callback");
        assert_eq!(c.post_logout_redirect_uri.as_str(), "https://app.example/");
    }

    #[test]
    fn sandbox_issuer_is_recognised() {
        let c = env(&with(&[("IDME_ISSUER", "https://api.idmelabs.com/oidc")])).unwrap();
        assert_eq!(c.environment, Environment::Sandbox);
    }

    #[test]
    fn query_mode_with_front_channel_tokens_fails() {
        let e = env(&with(&[
            ("IDME_RESPONSE_TYPE", "id_token token"),
            ("IDME_RESPONSE_MODE", "query"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("fragment or form_post"), "{e}");
    }

    #[test]
    fn implicit_defaults_to_fragment_and_no_pkce() {
        let c = env(&with(&[("IDME_RESPONSE_TYPE", "token id_token")])).unwrap();
        assert_eq!(c.response_type, ResponseType::IdTokenToken);
        assert_eq!(c.response_mode, ResponseMode::Fragment);
        assert!(!c.pkce);
    }

    #[test]
    fn pkce_with_implicit_fails() {
        let e = env(&with(&[
            ("IDME_RESPONSE_TYPE", "id_token"),
            ("IDME_PKCE", "true"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("IDME_PKCE"), "{e}");
    }

    #[test]
    fn http_off_loopback_fails() {
        let e = env(&with(&[("IDME_ISSUER", "http://idp.example/oidc")])).unwrap_err();
        assert!(e.to_string().contains("plain http"), "{e}");
        let e = env(&[
            ("IDME_CLIENT_ID", "cid"),
            ("IDME_CLIENT_SECRET", "s"),
            ("IDME_REDIRECT_URI", "http://app.example/cb"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("IDME_REDIRECT_URI"), "{e}");
    }

    #[test]
    fn loopback_http_drops_secure() {
        let c = env(&[
            ("IDME_ISSUER", "http://127.0.0.1:9000/oidc"),
            ("IDME_CLIENT_ID", "cid"),
            ("IDME_CLIENT_SECRET", "s"),
            ("IDME_REDIRECT_URI", "http://127.0.0.1:3000/auth/callback"),
        ])
        .unwrap();
        assert!(!c.secure_cookies);
        assert!(matches!(c.environment, Environment::Custom(_)));
    }

    #[test]
    fn redirect_uri_with_query_fails() {
        let e = env(&[
            ("IDME_CLIENT_ID", "cid"),
            ("IDME_CLIENT_SECRET", "s"),
            ("IDME_REDIRECT_URI", "https://app.example/cb?x=1"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("exactly"), "{e}");
    }

    #[test]
    fn missing_pieces_are_named() {
        assert!(env(&[]).unwrap_err().to_string().contains("IDME_CLIENT_ID"));
        let e = env(&[
            ("IDME_CLIENT_ID", "c"),
            ("IDME_REDIRECT_URI", "https://a.example/cb"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("IDME_CLIENT_SECRET"), "{e}");
        let e = env(&with(&[
            ("IDME_SCOPES", "military"),
            ("IDME_RESPONSE_TYPE", "id_token"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("openid"), "{e}");
        let e = env(&with(&[("IDME_TOKEN_AUTH", "private_key_jwt")])).unwrap_err();
        assert!(e.to_string().contains("IDME_TOKEN_AUTH"), "{e}");
    }

    #[test]
    fn durations_from_env() {
        let c = env(&with(&[
            ("IDME_HTTP_TIMEOUT", "1.5"),
            ("IDME_LOGIN_TIMEOUT", "30"),
        ]))
        .unwrap();
        assert_eq!(c.http_timeout, Duration::from_millis(1500));
        assert_eq!(c.login_timeout, Duration::from_secs(30));
        let e = env(&with(&[("IDME_HTTP_TIMEOUT", "soon")])).unwrap_err();
        assert!(e.to_string().contains("IDME_HTTP_TIMEOUT"), "{e}");
        assert!(env(&with(&[("IDME_LOGIN_TIMEOUT", "-1")])).is_err());
    }

    #[test]
    fn session_settings_from_env() {
        let c = env(&with(&[
            ("IDME_SESSION_IDLE_TIMEOUT", "900"),
            ("IDME_REFRESH_MARGIN", "30"),
            ("IDME_SESSION_LIFETIME", "3600"),
        ]))
        .unwrap();
        assert_eq!(c.session_idle_timeout(), Some(Duration::from_secs(900)));
        assert_eq!(c.refresh_margin(), Duration::from_secs(30));
        assert_eq!(c.session_lifetime(), Duration::from_secs(3600));
        let defaults = env(&with(&[])).unwrap();
        assert_eq!(defaults.session_idle_timeout(), None);
        assert_eq!(defaults.refresh_margin(), Duration::from_secs(60));
        assert!(!defaults.has_session_store());
        let e = env(&with(&[("IDME_SESSION_IDLE_TIMEOUT", "10")])).unwrap_err();
        assert!(e.to_string().contains("at least 60"), "{e}");
    }

    #[test]
    fn oauth_mode_reads_attributes() {
        let c = env(&with(&[("IDME_SCOPES", "military")])).unwrap();
        assert!(!c.openid);
        assert_eq!(c.user_data, UserDataSource::Attributes);
        assert!(
            env(&with(&[
                ("IDME_SCOPES", "military"),
                ("IDME_USER_DATA", "userinfo")
            ]))
            .is_err()
        );
    }

    #[test]
    fn policy_names_become_handles() {
        let c = env(&with(&[("IDME_SCOPES", "openid ial2 military")])).unwrap();
        assert_eq!(
            c.scopes,
            [
                "openid",
                "http://idmanagement.gov/ns/assurance/ial/2/aal/2",
                "military"
            ]
        );
    }

    #[test]
    fn prompt_and_max_age_from_env() {
        let c = env(&with(&[("IDME_PROMPT", "login"), ("IDME_MAX_AGE", "300")])).unwrap();
        assert_eq!(c.prompt, Some(crate::flow::Prompt::login()));
        assert_eq!(c.max_age, Some(300));
        let e = env(&with(&[("IDME_PROMPT", "none consent")])).unwrap_err();
        assert!(e.to_string().contains("IDME_PROMPT"), "{e}");
        let e = env(&with(&[("IDME_MAX_AGE", "-1")])).unwrap_err();
        assert!(e.to_string().contains("IDME_MAX_AGE"), "{e}");
    }

    #[test]
    fn implicit_needs_no_secret() {
        let c = env(&[
            ("IDME_CLIENT_ID", "cid"),
            ("IDME_REDIRECT_URI", "https://app.example/cb"),
            ("IDME_RESPONSE_TYPE", "id_token"),
        ])
        .unwrap();
        assert!(c.client_secret.is_none());
    }

    #[test]
    fn large_clock_skew_needs_dangerous() {
        let b = IdmeBuilder::from_lookup(|k| {
            BASE.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        assert!(
            b.clone()
                .clock_skew(Duration::from_secs(3600))
                .build()
                .is_err()
        );
        assert!(
            b.dangerous()
                .insecure_clock_skew(Duration::from_secs(3600))
                .build()
                .is_ok()
        );
    }
}
