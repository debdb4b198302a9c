//! [`IdmeBuilder`]: the setters, each writing one field of [`Settings`].

use std::sync::Arc;
use std::time::Duration;

use super::settings::{Relaxed, Settings};
use super::{Environment, TokenAuthMethod, UserDataSource};
use crate::config::{ResponseMode, ResponseType};
use crate::cookies::CookieKeys;
use crate::secret::ClientSecret;
use crate::store::SharedStore;

/// Builds an [`IdmeConfig`](super::IdmeConfig). Required: client id, redirect URI, and a
/// client secret for code flows. Set in code, or read from the environment with
/// [`from_env`](Self::from_env); checked once, in [`build`](Self::build).
#[derive(Debug, Clone, Default)]
pub struct IdmeBuilder {
    /// Every setting, as given.
    pub(crate) settings: Settings,
    /// The checks [`dangerous`](Self::dangerous) relaxed.
    pub(crate) relaxed: Relaxed,
}

impl IdmeBuilder {
    /// A builder for ID.me production with `scope=openid` and the authorization code flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// The provider installation (default: production).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.settings.environment = environment;
        self
    }
    /// The OAuth client id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.settings.client_id = Some(id.into());
        self
    }
    /// The OAuth client secret.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.settings.client_secret = Some(ClientSecret::new(secret));
        self
    }
    /// The redirect URI, exactly as registered with ID.me (no query, no fragment).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.settings.redirect_uri = Some(uri.into());
        self
    }
    /// Sets the redirect URI only if none was set (for example by `IDME_REDIRECT_URI`).
    pub fn default_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        if self.settings.redirect_uri.is_none() {
            self.settings.redirect_uri = Some(uri.into());
        }
        self
    }
    /// Scopes: `openid` plus ID.me policy handles (`military`, `student`, …).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
    /// The response type (default `code`).
    pub fn response_type(mut self, rt: ResponseType) -> Self {
        self.settings.response_type = rt;
        self
    }
    /// The response mode (default per OIDC: `query` for `code`, `fragment` otherwise).
    pub fn response_mode(mut self, rm: ResponseMode) -> Self {
        self.settings.response_mode = Some(rm);
        self
    }
    /// PKCE S256 for code flows (default on; only meaningful for flows returning a code).
    pub fn pkce(mut self, on: bool) -> Self {
        self.settings.pkce = Some(on);
        self
    }
    /// Token endpoint client authentication (default `client_secret_basic`).
    pub fn token_auth(mut self, method: TokenAuthMethod) -> Self {
        self.settings.token_auth = method;
        self
    }
    /// Keys sealing the cookies: the first seals, all open. Default: one random key
    /// (sessions do not survive a restart; a warning is logged).
    pub fn cookie_keys(mut self, keys: CookieKeys) -> Self {
        self.settings.cookie_keys = Some(keys);
        self
    }
    /// Allowed clock skew for `exp`/`iat` (default 60 s, at most 5 minutes; more is in
    /// [`dangerous`](Self::dangerous)).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.settings.clock_skew = skew;
        self
    }
    /// Timeout for each call to the provider (default 10 s).
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.settings.http_timeout = timeout;
        self
    }
    /// Idle session lifetime: a session unused this long ends (default: none; at least
    /// 60 s). The last-seen time is re-issued at most once a minute, so a session may end
    /// up to a minute early.
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.settings.session_idle_timeout = Some(timeout);
        self
    }

    /// How long before the access token expires a request refreshes it with the refresh
    /// token (default 60 s).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.settings.refresh_margin = margin;
        self
    }

    /// With a [`session_store`](Self::session_store): how long this instance uses a session
    /// it read from the store before reading it again (default 500 ms; at most 1 s;
    /// `Duration::ZERO` reads the store on every request). A burst of requests carrying
    /// one session then costs one store round trip; a logout or back-channel logout on
    /// another instance takes effect here within this time (at once on this one), and a
    /// store outage is noticed within it.
    pub fn session_store_cache(mut self, fresh_for: Duration) -> Self {
        self.settings.session_store_cache = fresh_for;
        self
    }

    /// Keeps sessions server-side in `store`; the cookie then holds only a sealed random
    /// id. Default: the whole session sealed in the cookie. Share the store (and
    /// `IDME_COOKIE_KEYS`) between instances so a session works, and ends, on all of them.
    /// Its failed calls are counted in `idme_store_errors_total{operation}`.
    pub fn session_store(mut self, store: impl SharedStore) -> Self {
        self.settings.session_store = Some(Arc::new(crate::store::Counted(store)));
        self
    }

    /// Absolute session lifetime (default 8 hours).
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.session_lifetime = lifetime;
        self
    }
    /// How long a started login may take before its callback is refused (default 10
    /// minutes, at most 30).
    pub fn login_timeout(mut self, timeout: Duration) -> Self {
        self.settings.login_timeout = timeout;
        self
    }
    /// Where the provider sends the browser after logout (default: `/` on the redirect URI's origin).
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.settings.post_logout_redirect_uri = Some(uri.into());
        self
    }
    /// Whether to read userinfo after sign-in (`false`: the ID token alone; `true`: the
    /// default [`UserDataSource::Auto`]).
    pub fn fetch_userinfo(mut self, on: bool) -> Self {
        self.settings.user_data = if on {
            UserDataSource::Auto
        } else {
            UserDataSource::IdToken
        };
        self
    }
    /// Where to read the user's claims and verification status (default
    /// [`UserDataSource::Auto`]).
    pub fn user_data(mut self, source: UserDataSource) -> Self {
        self.settings.user_data = source;
        self
    }
    /// ID.me's `attributes.json` URL, when it cannot be derived from the userinfo endpoint.
    pub fn attributes_endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.attributes_endpoint = Some(url.into());
        self
    }
    /// The RP's private keys for encrypted ID tokens and userinfo (ID.me encrypts to the
    /// certificate registered for the client).
    pub fn decryption_keys(mut self, keys: crate::DecryptionKeys) -> Self {
        self.settings.decryption_keys = keys;
        self
    }
    /// `acr_values` sent on the authorization request (e.g. an IAL2 assurance URI).
    pub fn acr_values(mut self, acr: impl Into<String>) -> Self {
        self.settings.acr_values = Some(acr.into());
        self
    }
    /// `prompt` on every login (`IDME_PROMPT`; a login's own
    /// [`LoginOptions::prompt`](crate::LoginOptions::prompt) wins). With `offline_access`
    /// in the scopes, `consent` is always added (OIDC Core §11).
    pub fn prompt(mut self, prompt: crate::config::Prompt) -> Self {
        self.settings.prompt = Some(prompt);
        self
    }
    /// `max_age` on every login (`IDME_MAX_AGE`, whole seconds): the ID token must then
    /// carry an `auth_time` no older than this (plus the clock skew).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.settings.max_age = Some(max_age);
        self
    }
    /// Adds ID.me policies to the scopes (`openid` stays).
    pub fn policies<I>(mut self, policies: I) -> Self
    where
        I: IntoIterator<Item = crate::verification::Policy>,
    {
        for p in policies {
            let h = p.handle().to_owned();
            if !self.settings.scopes.contains(&h) {
                self.settings.scopes.push(h);
            }
        }
        self
    }
    /// Accept HS256/384/512 ID tokens keyed with the client secret (off by default).
    pub fn allow_hmac_id_tokens(mut self, on: bool) -> Self {
        self.settings.allow_hmac = on;
        self
    }
    /// Minimum time between two JWKS refetches caused by an unknown `kid` (default 30 s).
    pub fn jwks_refetch_interval(mut self, interval: Duration) -> Self {
        self.settings.jwks_refetch_interval = interval;
        self
    }
    /// Paths of the login and logout routes (default `/auth/login`, `/auth/logout`); the
    /// callback path is the redirect URI's.
    pub fn route_paths(mut self, login: impl Into<String>, logout: impl Into<String>) -> Self {
        self.settings.login_path = login.into();
        self.settings.logout_path = logout.into();
        self
    }
    /// Path of the OIDC back-channel logout route (default `/auth/backchannel-logout`);
    /// register its absolute URL at the provider as the client's
    /// `backchannel_logout_uri`.
    pub fn backchannel_logout_path(mut self, path: impl Into<String>) -> Self {
        self.settings.backchannel_logout_path = path.into();
        self
    }
    /// The session route: the browser's session as JSON for a single-page app
    /// ([`Idme::session_info`](crate::Idme::session_info)). Default: `/auth/session`.
    pub fn session_path(mut self, path: impl Into<String>) -> Self {
        self.settings.session_path = path.into();
        self
    }
    /// A plain-text notice shown at the top of every HTML page the engine renders (error,
    /// access-denied, verification-required and fragment relay pages), HTML-escaped; for
    /// example "Offline emulator: not ID.me" in a development mode. Default: none.
    pub fn page_notice(mut self, text: impl Into<String>) -> Self {
        self.settings.page_notice = Some(text.into()).filter(|t| !t.trim().is_empty());
        self
    }
    /// An origin besides the application's own (`scheme://host[:port]`, exact) whose pages
    /// may send the session cookie's requests with unsafe methods (`POST`, `PUT`, `PATCH`,
    /// `DELETE`): a single-page app served from another site that calls this API with
    /// `credentials: "include"`. Repeat for several. Default: none, only the application's
    /// own pages (see [`cross_site`](crate::cross_site)). `https` only, or `http` on a
    /// loopback host; checked by [`build`](Self::build).
    pub fn trusted_origin(mut self, origin: impl Into<String>) -> Self {
        self.settings.trusted_origins.push(origin.into());
        self
    }
}
