//! Validation: [`IdmeBuilder::build`] checks that the settings fit together and turns
//! them into an [`IdmeConfig`]; an impossible combination is an error saying what to
//! change.

use std::time::Duration;

use url::Url;

use super::native::Client;
use super::{
    IdmeBuilder, IdmeConfig, ResponseMode, ResponseType, RoutePaths, TokenAuthMethod,
    UserDataSource,
};
use crate::cookies::CookieKeys;
use crate::error::Error;

/// The largest clock skew [`build`](IdmeBuilder::build) accepts unless
/// [`dangerous`](IdmeBuilder::dangerous) relaxed it.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

impl IdmeBuilder {
    /// Validates and builds the configuration of a web application.
    pub fn build(self) -> Result<IdmeConfig, Error> {
        self.build_for(Client::Web)
    }

    /// Validates and builds the configuration, for a web or a native application.
    pub(super) fn build_for(self, client: Client) -> Result<IdmeConfig, Error> {
        let relaxed = self.relaxed;
        let s = self.settings;
        let client_id = s.client_id.filter(|id| !id.is_empty()).ok_or_else(|| {
            Error::config("IDME_CLIENT_ID is required: the client id ID.me issued for this app")
        })?;

        let issuer = s.environment.issuer();
        let issuer_url = Url::parse(issuer)
            .map_err(|e| Error::config(format!("IDME_ISSUER={issuer:?} is not a URL: {e}")))?;
        check_https_or_loopback(&issuer_url, "IDME_ISSUER")?;
        if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
            return Err(Error::config(
                "IDME_ISSUER must not contain a query or fragment",
            ));
        }

        let redirect = s.redirect_uri.ok_or_else(|| {
            Error::config("IDME_REDIRECT_URI is required: the exact callback URL registered with ID.me, e.g. https://app.example/auth/callback")
        })?;
        let redirect_uri = Url::parse(&redirect).map_err(|e| {
            Error::config(format!(
                "IDME_REDIRECT_URI={redirect:?} is not an absolute URL: {e}"
            ))
        })?;
        match client {
            Client::Web => check_https_or_loopback(&redirect_uri, "IDME_REDIRECT_URI")?,
            Client::Native => super::native::check_redirect_uri(&redirect_uri)?,
        }
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

        let rt = s.response_type;
        let response_mode = s.response_mode.unwrap_or(rt.default_mode());
        if response_mode == ResponseMode::Query && rt.returns_tokens_in_front_channel() {
            return Err(Error::config(format!(
                "IDME_RESPONSE_MODE=query cannot carry the tokens of response type `{}`: use fragment or form_post",
                rt.as_str()
            )));
        }
        let pkce = match (s.pkce, rt.returns_code()) {
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
        let openid = s.scopes.iter().any(|s| s == "openid");
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
        crate::config::assurance::check_config(&s.scopes, rt)?;
        if s.scopes.is_empty() {
            return Err(Error::config(
                "IDME_SCOPES is empty: use `openid`, optionally with ID.me policies (e.g. \"openid military\")",
            ));
        }
        let user_data = if openid {
            s.user_data
        } else {
            match s.user_data {
                UserDataSource::Auto | UserDataSource::Attributes => UserDataSource::Attributes,
                other => {
                    return Err(Error::config(format!(
                        "IDME_USER_DATA={other:?} needs an ID token: without `openid` in IDME_SCOPES only attributes can identify the user"
                    )));
                }
            }
        };
        let client_secret = s.client_secret.filter(|secret| !secret.secret().is_empty());
        super::native::check_client(client, s.token_auth, client_secret.is_some(), pkce, rt)?;
        if rt.returns_code() && client_secret.is_none() && s.token_auth != TokenAuthMethod::None {
            return Err(Error::config(
                "IDME_CLIENT_SECRET is required for flows that exchange a code at the token endpoint",
            ));
        }
        if s.clock_skew > MAX_CLOCK_SKEW && !relaxed.clock_skew {
            return Err(Error::config(
                "clock skew above 5 minutes weakens expiry checks; use dangerous().insecure_clock_skew() in tests",
            ));
        }
        if s.session_idle_timeout
            .is_some_and(|t| t < Duration::from_secs(60))
        {
            return Err(Error::config(
                "session idle timeout must be at least 60 seconds",
            ));
        }
        if s.session_store_cache > Duration::from_secs(1) {
            return Err(Error::config(
                "session store cache must be at most 1 s, so a logout on another instance takes effect within a second",
            ));
        }
        if s.session_lifetime.is_zero() {
            return Err(Error::config("session lifetime must be positive"));
        }
        if s.login_timeout.is_zero() || s.login_timeout > Duration::from_secs(1800) {
            return Err(Error::config(
                "login timeout must be between 1 second and 30 minutes",
            ));
        }
        if s.http_timeout.is_zero() {
            return Err(Error::config("HTTP timeout must be positive"));
        }
        let max_age = crate::config::prompt::check_max_age(s.max_age)?;

        let post_logout_redirect_uri = match s.post_logout_redirect_uri {
            Some(u) => Url::parse(&u).map_err(|e| {
                Error::config(format!("post-logout redirect URI {u:?} is not a URL: {e}"))
            })?,
            None => {
                let mut u = redirect_uri.clone();
                u.set_path("/");
                u
            }
        };

        let mut trusted_origins = Vec::with_capacity(s.trusted_origins.len());
        for raw in &s.trusted_origins {
            let origin = crate::cross_site::parse_origin(raw)
                .map_err(|rule| Error::config(format!("trusted origin {raw:?}: {rule}")))?;
            trusted_origins.push(origin);
        }
        let site_origins = crate::cross_site::SiteOrigins::new(
            redirect_uri.origin().ascii_serialization(),
            trusted_origins,
        );

        for (name, path) in [
            ("login", &s.login_path),
            ("logout", &s.logout_path),
            ("back-channel logout", &s.backchannel_logout_path),
            ("session", &s.session_path),
        ] {
            if !path.starts_with('/') {
                return Err(Error::config(format!("{name} path must start with '/'")));
            }
        }
        let paths = RoutePaths {
            login: s.login_path,
            callback: redirect_uri.path().to_owned(),
            logout: s.logout_path,
            backchannel_logout: s.backchannel_logout_path,
            session: s.session_path,
        };

        let cookie_keys = match s.cookie_keys {
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
            cookie_keys.bound_to(s.environment.issuer().trim_end_matches('/'), &client_id);
        let config = IdmeConfig {
            environment: s.environment,
            client_id,
            client_secret,
            redirect_uri,
            scopes: s.scopes,
            response_type: rt,
            response_mode,
            pkce,
            token_auth: s.token_auth,
            cookie_keys,
            clock_skew: s.clock_skew,
            http_timeout: s.http_timeout,
            session_lifetime: s.session_lifetime,
            session_idle_timeout: s.session_idle_timeout,
            refresh_margin: s.refresh_margin,
            session_store: s.session_store,
            session_store_cache: s.session_store_cache,
            login_timeout: s.login_timeout,
            post_logout_redirect_uri,
            allow_hmac: s.allow_hmac,
            user_data,
            attributes_endpoint: s.attributes_endpoint,
            acr_values: s.acr_values,
            prompt: s.prompt,
            max_age,
            decryption_keys: s.decryption_keys,
            openid,
            jwks_refetch_interval: s.jwks_refetch_interval,
            secure_cookies,
            paths,
            page_notice: s.page_notice,
            site_origins,
            clock: s.clock,
        };
        Ok(config)
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
