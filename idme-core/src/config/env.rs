//! The environment contract: [`IdmeBuilder::from_env`] and [`IdmeBuilder::from_lookup`]
//! parse the `IDME_*` variables into [`Settings`](super::settings::Settings). Only the form
//! of each value is checked here, with an error naming the variable; whether the values
//! fit together is [`build`](IdmeBuilder::build)'s job.

use std::time::Duration;

use super::{Environment, IdmeBuilder, TokenAuthMethod, UserDataSource};
use crate::config::{ResponseMode, ResponseType};
use crate::config_error::{ConfigError, Rule};
use crate::cookies::CookieKeys;
use crate::secret::ClientSecret;

impl IdmeBuilder {
    /// Reads the environment contract: `IDME_ISSUER`, `IDME_CLIENT_ID`, `IDME_CLIENT_SECRET`,
    /// `IDME_REDIRECT_URI`, `IDME_SCOPES`, `IDME_USER_DATA`, `IDME_DECRYPTION_KEY_FILE`,
    /// `IDME_ACR_VALUES`, `IDME_PROMPT`, `IDME_MAX_AGE`, `IDME_RESPONSE_TYPE`,
    /// `IDME_RESPONSE_MODE`, `IDME_PKCE`, `IDME_TOKEN_AUTH`, `IDME_COOKIE_KEYS`,
    /// `IDME_TRUSTED_ORIGINS` (space- or comma-separated), `IDME_EVENTS_AUDIENCE`,
    /// `IDME_EVENTS_JWKS_URL`, `IDME_EVENTS_ISSUER`,
    /// and the
    /// durations in seconds `IDME_HTTP_TIMEOUT`, `IDME_LOGIN_TIMEOUT`,
    /// `IDME_SESSION_LIFETIME`, `IDME_REFRESH_MARGIN`, `IDME_SESSION_IDLE_TIMEOUT`. Unset or
    /// blank variables keep their defaults; a malformed one is an error naming the variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (for tests and
    /// other configuration sources).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut b = Self::new();
        if let Some(issuer) = lookup("IDME_ISSUER") {
            b.settings.environment = Environment::from_issuer(issuer.trim());
        }
        if let Some(id) = lookup("IDME_CLIENT_ID") {
            b.settings.client_id = Some(id.trim().to_owned());
        }
        if let Some(secret) = lookup("IDME_CLIENT_SECRET") {
            b.settings.client_secret = Some(ClientSecret::new(secret.trim()));
        }
        if let Some(uri) = lookup("IDME_REDIRECT_URI") {
            b.settings.redirect_uri = Some(uri.trim().to_owned());
        }
        if let Some(scopes) = lookup("IDME_SCOPES") {
            // Policy short names (`ial2`, `loa3`) become ID.me's handles.
            b.settings.scopes = scopes
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
            b.settings.user_data = source
                .parse::<UserDataSource>()
                .map_err(unparsable("IDME_USER_DATA"))?;
        }
        if let Some(files) = lookup("IDME_DECRYPTION_KEY_FILE") {
            b.settings.decryption_keys = crate::DecryptionKeys::from_file_list(&files)?;
        }
        if let Some(acr) = lookup("IDME_ACR_VALUES") {
            b.settings.acr_values = Some(acr.trim().to_owned());
        }
        (b.settings.prompt, b.settings.max_age) = crate::config::prompt::from_lookup(&lookup)?;
        if let Some(rt) = lookup("IDME_RESPONSE_TYPE") {
            b.settings.response_type = rt
                .parse::<ResponseType>()
                .map_err(unparsable("IDME_RESPONSE_TYPE"))?;
        }
        if let Some(rm) = lookup("IDME_RESPONSE_MODE") {
            b.settings.response_mode = Some(
                rm.parse::<ResponseMode>()
                    .map_err(unparsable("IDME_RESPONSE_MODE"))?,
            );
        }
        if let Some(pkce) = lookup("IDME_PKCE") {
            b.settings.pkce = Some(match pkce.trim() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => {
                    return Err(ConfigError::invalid("IDME_PKCE", other, Rule::Boolean));
                }
            });
        }
        if let Some(auth) = lookup("IDME_TOKEN_AUTH") {
            b.settings.token_auth = auth
                .parse::<TokenAuthMethod>()
                .map_err(unparsable("IDME_TOKEN_AUTH"))?;
        }
        for (var, field) in [
            ("IDME_HTTP_TIMEOUT", &mut b.settings.http_timeout),
            ("IDME_LOGIN_TIMEOUT", &mut b.settings.login_timeout),
            ("IDME_SESSION_LIFETIME", &mut b.settings.session_lifetime),
            ("IDME_REFRESH_MARGIN", &mut b.settings.refresh_margin),
        ] {
            if let Some(v) = lookup(var) {
                let secs: f64 = v
                    .trim()
                    .parse()
                    .map_err(|_| ConfigError::invalid(var, v.as_str(), Rule::Seconds))?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(ConfigError::invalid(var, v, Rule::Positive));
                }
                *field = Duration::from_secs_f64(secs);
            }
        }
        if let Some(v) = lookup("IDME_SESSION_IDLE_TIMEOUT") {
            const VAR: &str = "IDME_SESSION_IDLE_TIMEOUT";
            let secs: f64 = v
                .trim()
                .parse()
                .map_err(|_| ConfigError::invalid(VAR, v.as_str(), Rule::Seconds))?;
            if !(secs.is_finite() && secs >= 60.0) {
                return Err(ConfigError::invalid(VAR, v, Rule::AtLeastAMinute));
            }
            b.settings.session_idle_timeout = Some(Duration::from_secs_f64(secs));
        }
        if let Some(origins) = lookup("IDME_TRUSTED_ORIGINS") {
            // Space- or comma-separated; each is checked by `build`.
            b.settings.trusted_origins.extend(
                origins
                    .split([' ', ','])
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned),
            );
        }
        b = b.events_from_lookup(&lookup);
        if let Some(keys) = lookup("IDME_COOKIE_KEYS") {
            b.settings.cookie_keys =
                Some(CookieKeys::from_base64_list(&keys).map_err(|source| {
                    ConfigError::CookieKeys {
                        var: "IDME_COOKIE_KEYS",
                        source,
                    }
                })?);
        }
        Ok(b)
    }
}

/// The error for a variable whose value does not parse.
fn unparsable(var: &'static str) -> impl FnOnce(crate::ParseError) -> ConfigError {
    move |source| ConfigError::Env { var, source }
}
