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
use crate::config_error::{ConfigError, ConflictRule, Rule, UrlRule};
use crate::cookies::CookieKeys;

/// The largest clock skew [`build`](IdmeBuilder::build) accepts unless
/// [`dangerous`](IdmeBuilder::dangerous) relaxed it.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

impl IdmeBuilder {
    /// Validates and builds the configuration of a web application.
    pub fn build(self) -> Result<IdmeConfig, ConfigError> {
        self.build_for(Client::Web)
    }

    /// Validates and builds the configuration, for a web or a native application.
    pub(super) fn build_for(self, client: Client) -> Result<IdmeConfig, ConfigError> {
        let relaxed = self.relaxed;
        let s = self.settings;
        let client_id = s
            .client_id
            .filter(|id| !id.is_empty())
            .ok_or(ConfigError::Missing {
                setting: "IDME_CLIENT_ID",
                hint: "the client id ID.me issued for this app",
            })?;

        let issuer = s.environment.issuer();
        let issuer_url = Url::parse(issuer).map_err(|source| ConfigError::NotAUrl {
            setting: "IDME_ISSUER",
            value: issuer.to_owned(),
            source,
        })?;
        check_https_or_loopback(&issuer_url, "IDME_ISSUER")?;
        if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
            return Err(ConfigError::invalid(
                "IDME_ISSUER",
                issuer,
                Rule::NoQueryOrFragment,
            ));
        }

        let redirect = s.redirect_uri.ok_or(ConfigError::Missing {
            setting: "IDME_REDIRECT_URI",
            hint: "the exact callback URL registered with ID.me, e.g. https://app.example/auth/callback",
        })?;
        let redirect_uri = Url::parse(&redirect).map_err(|source| ConfigError::NotAUrl {
            setting: "IDME_REDIRECT_URI",
            value: redirect.clone(),
            source,
        })?;
        match client {
            Client::Web => check_https_or_loopback(&redirect_uri, "IDME_REDIRECT_URI")?,
            Client::Native => super::native::check_redirect_uri(&redirect_uri)?,
        }
        if redirect_uri.query().is_some() || redirect_uri.fragment().is_some() {
            return Err(ConfigError::invalid(
                "IDME_REDIRECT_URI",
                redirect,
                Rule::ExactRedirectUri,
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
            return Err(ConfigError::conflict(
                "IDME_RESPONSE_MODE",
                "IDME_RESPONSE_TYPE",
                ConflictRule::QueryModeCarriesNoTokens {
                    response_type: rt.as_str(),
                },
            ));
        }
        let pkce = match (s.pkce, rt.returns_code()) {
            (Some(true), false) => {
                return Err(ConfigError::conflict(
                    "IDME_PKCE",
                    "IDME_RESPONSE_TYPE",
                    ConflictRule::PkceWithoutCode {
                        response_type: rt.as_str(),
                    },
                ));
            }
            (Some(p), true) => p,
            (None, code) => code,
            (Some(false), false) => false,
        };
        let openid = s.scopes.iter().any(|s| s == "openid");
        if !openid && !matches!(rt, ResponseType::Code | ResponseType::Token) {
            return Err(ConfigError::conflict(
                "IDME_SCOPES",
                "IDME_RESPONSE_TYPE",
                ConflictRule::OAuthModeResponseType {
                    response_type: rt.as_str(),
                },
            ));
        }
        if openid && rt == ResponseType::Token {
            return Err(ConfigError::conflict(
                "IDME_RESPONSE_TYPE",
                "IDME_SCOPES",
                ConflictRule::TokenWithOpenid,
            ));
        }
        crate::config::assurance::check_config(&s.scopes, rt)?;
        if s.scopes.is_empty() {
            return Err(ConfigError::Missing {
                setting: "IDME_SCOPES",
                hint: "use `openid`, optionally with ID.me policies (e.g. \"openid military\")",
            });
        }
        let user_data = if openid {
            s.user_data
        } else {
            match s.user_data {
                UserDataSource::Auto | UserDataSource::Attributes => UserDataSource::Attributes,
                other => {
                    return Err(ConfigError::conflict(
                        "IDME_USER_DATA",
                        "IDME_SCOPES",
                        ConflictRule::UserDataNeedsIdToken {
                            user_data: format!("{other:?}"),
                        },
                    ));
                }
            }
        };
        let client_secret = s.client_secret.filter(|secret| !secret.secret().is_empty());
        super::native::check_client(client, s.token_auth, client_secret.is_some(), pkce, rt)?;
        if rt.returns_code() && client_secret.is_none() && s.token_auth != TokenAuthMethod::None {
            return Err(ConfigError::Missing {
                setting: "IDME_CLIENT_SECRET",
                hint: "flows that exchange a code at the token endpoint need it",
            });
        }
        if s.clock_skew > MAX_CLOCK_SKEW && !relaxed.clock_skew {
            return Err(ConfigError::invalid(
                "clock_skew",
                format!("{:?}", s.clock_skew),
                Rule::AtMostFiveMinutes,
            ));
        }
        if let Some(t) = s
            .session_idle_timeout
            .filter(|t| *t < Duration::from_secs(60))
        {
            return Err(ConfigError::invalid(
                "IDME_SESSION_IDLE_TIMEOUT",
                format!("{t:?}"),
                Rule::AtLeastAMinute,
            ));
        }
        if s.session_store_cache > Duration::from_secs(1) {
            return Err(ConfigError::invalid(
                "session_store_cache",
                format!("{:?}", s.session_store_cache),
                Rule::AtMostASecond,
            ));
        }
        if s.session_lifetime.is_zero() {
            return Err(ConfigError::invalid(
                "IDME_SESSION_LIFETIME",
                "0s",
                Rule::Positive,
            ));
        }
        if s.login_timeout.is_zero() || s.login_timeout > Duration::from_secs(1800) {
            return Err(ConfigError::invalid(
                "IDME_LOGIN_TIMEOUT",
                format!("{:?}", s.login_timeout),
                Rule::OneSecondToHalfAnHour,
            ));
        }
        if s.http_timeout.is_zero() {
            return Err(ConfigError::invalid(
                "IDME_HTTP_TIMEOUT",
                "0s",
                Rule::Positive,
            ));
        }
        let max_age = crate::config::prompt::check_max_age(s.max_age)?;

        let post_logout_redirect_uri = match s.post_logout_redirect_uri {
            Some(u) => Url::parse(&u).map_err(|source| ConfigError::NotAUrl {
                setting: "post_logout_redirect_uri",
                value: u.clone(),
                source,
            })?,
            None => {
                let mut u = redirect_uri.clone();
                u.set_path("/");
                u
            }
        };

        let mut trusted_origins = Vec::with_capacity(s.trusted_origins.len());
        for raw in &s.trusted_origins {
            let origin = crate::cross_site::parse_origin(raw).map_err(|why| {
                ConfigError::invalid("IDME_TRUSTED_ORIGINS", raw.as_str(), Rule::Origin { why })
            })?;
            trusted_origins.push(origin);
        }
        let site_origins = crate::cross_site::SiteOrigins::new(
            redirect_uri.origin().ascii_serialization(),
            trusted_origins,
        );

        for (name, path) in [
            ("route_paths", &s.login_path),
            ("route_paths", &s.logout_path),
            ("backchannel_logout_path", &s.backchannel_logout_path),
            ("session_path", &s.session_path),
            ("security_events_path", &s.events_path),
        ] {
            if !path.starts_with('/') {
                return Err(ConfigError::invalid(
                    name,
                    path.as_str(),
                    Rule::LeadingSlash,
                ));
            }
        }
        let paths = RoutePaths {
            login: s.login_path,
            callback: redirect_uri.path().to_owned(),
            logout: s.logout_path,
            backchannel_logout: s.backchannel_logout_path,
            session: s.session_path,
            security_events: s.events_path,
        };
        let security_events = super::events::check(
            s.events_audience,
            s.events_jwks_url,
            s.events_issuer,
            s.events_handler,
        )?;

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
            security_events,
            clock: s.clock,
        };
        Ok(config)
    }
}

/// `https`, or `http` on a loopback host only.
fn check_https_or_loopback(url: &Url, what: &'static str) -> Result<(), ConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(ConfigError::url(what, url, UrlRule::PlainHttp)),
        other => Err(ConfigError::url(
            what,
            url,
            UrlRule::Scheme {
                scheme: other.to_owned(),
            },
        )),
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
