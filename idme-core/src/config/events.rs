//! The security-event receiver's settings: the builder's setters, the `IDME_EVENTS_*`
//! variables, and their validation into a [`SecurityEventsConfig`].

use url::Url;

use super::IdmeBuilder;
use crate::config_error::{ConfigError, UrlRule};
use crate::events::{SecurityEventHandler, SharedHandler};

/// ID.me's security-event transmitter: the `iss` of every SET it sends.
pub const DEFAULT_EVENTS_ISSUER: &str = "https://events.id.me";

/// The security-event receiver, when configured
/// ([`IdmeConfig::security_events`](super::IdmeConfig::security_events)).
#[derive(Debug, Clone)]
pub struct SecurityEventsConfig {
    pub(crate) audience: String,
    pub(crate) jwks_url: Url,
    pub(crate) issuer: String,
    pub(crate) handler: Option<SharedHandler>,
}

impl SecurityEventsConfig {
    /// The audience registered with the transmitter: every SET's `aud` must name it.
    pub fn audience(&self) -> &str {
        &self.audience
    }
    /// Where the transmitter publishes its signing keys (ID.me's SSF JWKS URL).
    pub fn jwks_url(&self) -> &Url {
        &self.jwks_url
    }
    /// The transmitter's issuer: every SET's `iss` must be exactly this.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

impl IdmeBuilder {
    /// Turns the security-event receiver on (`POST /auth/events`): SETs whose `aud` names
    /// `audience` (the audience string registered with ID.me), signed with the keys at
    /// `jwks_url` (ID.me's SSF JWKS URL, given at registration; `https`, or `http` on
    /// loopback). Same as `IDME_EVENTS_AUDIENCE` and `IDME_EVENTS_JWKS_URL`. See
    /// [`events`](crate::events).
    pub fn security_events(
        mut self,
        audience: impl Into<String>,
        jwks_url: impl Into<String>,
    ) -> Self {
        self.settings.events_audience = Some(audience.into());
        self.settings.events_jwks_url = Some(jwks_url.into());
        self
    }
    /// The transmitter's issuer, every SET's exact `iss` (`IDME_EVENTS_ISSUER`; default
    /// [`DEFAULT_EVENTS_ISSUER`], `https://events.id.me`).
    pub fn security_events_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.settings.events_issuer = issuer.into();
        self
    }
    /// Path of the security-event receiver (default `/auth/events`); register its
    /// absolute URL with ID.me as the receiver URL.
    pub fn security_events_path(mut self, path: impl Into<String>) -> Self {
        self.settings.events_path = path.into();
        self
    }
    /// The application's hook, called for every verified security event, effect or not
    /// (see [`SecurityEventHandler`]): a closure `Fn(&SecurityEvent)` or a type
    /// implementing the trait. Without [`security_events`](Self::security_events) (or
    /// `IDME_EVENTS_AUDIENCE`) there is no receiver, and the hook is never called.
    pub fn on_security_event(mut self, handler: impl SecurityEventHandler) -> Self {
        self.settings.events_handler = Some(SharedHandler(std::sync::Arc::new(handler)));
        self
    }
}

impl IdmeBuilder {
    /// Reads `IDME_EVENTS_AUDIENCE`, `IDME_EVENTS_JWKS_URL` and `IDME_EVENTS_ISSUER`
    /// (for [`from_lookup`](Self::from_lookup)).
    pub(super) fn events_from_lookup(mut self, lookup: &impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| lookup(name).map(|v| v.trim().to_owned());
        if let Some(audience) = read("IDME_EVENTS_AUDIENCE") {
            self.settings.events_audience = Some(audience);
        }
        if let Some(url) = read("IDME_EVENTS_JWKS_URL") {
            self.settings.events_jwks_url = Some(url);
        }
        if let Some(issuer) = read("IDME_EVENTS_ISSUER") {
            self.settings.events_issuer = issuer;
        }
        self
    }
}

/// The receiver's configuration, `None` when no audience turns it on.
pub(super) fn check(
    audience: Option<String>,
    jwks_url: Option<String>,
    issuer: String,
    handler: Option<SharedHandler>,
) -> Result<Option<SecurityEventsConfig>, ConfigError> {
    let audience = audience.filter(|a| !a.is_empty());
    let jwks_url = jwks_url.filter(|u| !u.is_empty());
    let (audience, jwks_url) = match (audience, jwks_url) {
        (None, None) => return Ok(None),
        (None, Some(_)) => {
            return Err(ConfigError::Missing {
                setting: "IDME_EVENTS_AUDIENCE",
                hint: "the audience string registered with ID.me for security events (it turns the receiver on)",
            });
        }
        (Some(_), None) => {
            return Err(ConfigError::Missing {
                setting: "IDME_EVENTS_JWKS_URL",
                hint: "ID.me's SSF JWKS URL, given at registration",
            });
        }
        (Some(a), Some(u)) => (a, u),
    };
    let jwks_url = Url::parse(&jwks_url).map_err(|source| ConfigError::NotAUrl {
        setting: "IDME_EVENTS_JWKS_URL",
        value: jwks_url.clone(),
        source,
    })?;
    // `https`, or `http` on loopback only, like the other endpoint URLs.
    match jwks_url.scheme() {
        "https" => {}
        "http" if super::is_loopback(&jwks_url) => {}
        "http" => {
            return Err(ConfigError::url(
                "IDME_EVENTS_JWKS_URL",
                &jwks_url,
                UrlRule::PlainHttp,
            ));
        }
        other => {
            let scheme = other.to_owned();
            let rule = UrlRule::Scheme { scheme };
            return Err(ConfigError::url("IDME_EVENTS_JWKS_URL", &jwks_url, rule));
        }
    }
    if issuer.trim().is_empty() {
        return Err(ConfigError::Missing {
            setting: "IDME_EVENTS_ISSUER",
            hint: "the transmitter's issuer (ID.me's is https://events.id.me)",
        });
    }
    Ok(Some(SecurityEventsConfig {
        audience,
        jwks_url,
        issuer,
        handler,
    }))
}

#[cfg(test)]
mod tests {
    use crate::config::IdmeBuilder;
    use crate::config_error::ConfigError;

    fn env(vars: &[(&str, &str)]) -> Result<crate::config::IdmeConfig, ConfigError> {
        let mut all = vec![
            ("IDME_CLIENT_ID", "c"),
            ("IDME_CLIENT_SECRET", "s"),
            ("IDME_REDIRECT_URI", "https://app.example/auth/callback"),
        ];
        all.extend_from_slice(vars);
        IdmeBuilder::from_lookup(|name| {
            all.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })?
        .build()
    }

    #[test]
    fn the_audience_turns_the_receiver_on_and_needs_a_jwks_url() {
        let off = env(&[]).unwrap();
        assert!(off.security_events().is_none());
        assert_eq!(off.paths().security_events, "/auth/events");
        let on = env(&[
            ("IDME_EVENTS_AUDIENCE", "rp-events"),
            ("IDME_EVENTS_JWKS_URL", "https://events.id.me/jwks"),
        ])
        .unwrap();
        let events = on.security_events().unwrap();
        assert_eq!(events.audience(), "rp-events");
        assert_eq!(events.issuer(), "https://events.id.me");
        assert_eq!(events.jwks_url().as_str(), "https://events.id.me/jwks");
        let e = env(&[("IDME_EVENTS_AUDIENCE", "rp-events")]).unwrap_err();
        assert_eq!(e.setting(), Some("IDME_EVENTS_JWKS_URL"));
        let e = env(&[("IDME_EVENTS_JWKS_URL", "https://events.id.me/jwks")]).unwrap_err();
        assert_eq!(e.setting(), Some("IDME_EVENTS_AUDIENCE"));
    }

    #[test]
    fn the_jwks_url_is_https_or_loopback_and_the_issuer_configurable() {
        let with = |url: &str| {
            env(&[
                ("IDME_EVENTS_AUDIENCE", "a"),
                ("IDME_EVENTS_JWKS_URL", url),
                ("IDME_EVENTS_ISSUER", "https://issuer.example"),
            ])
        };
        assert!(matches!(
            with("http://events.example/jwks").unwrap_err(),
            ConfigError::Url {
                setting: "IDME_EVENTS_JWKS_URL",
                ..
            }
        ));
        assert!(matches!(
            with("not a url").unwrap_err(),
            ConfigError::NotAUrl {
                setting: "IDME_EVENTS_JWKS_URL",
                ..
            }
        ));
        let local = with("http://127.0.0.1:9/jwks").unwrap();
        assert_eq!(
            local.security_events().unwrap().issuer(),
            "https://issuer.example"
        );
    }
}
