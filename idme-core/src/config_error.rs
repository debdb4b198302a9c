//! [`ConfigError`]: why a configuration was refused, naming the setting and the rule.
//!
//! Built by [`IdmeBuilder::build`](crate::IdmeBuilder::build) and the environment reader;
//! a configuration problem found at request time (a provider without a userinfo endpoint,
//! say) reaches callers as [`Error::Config`](crate::Error::Config) holding one. No variant
//! holds a secret: a client secret, cookie key or token never appears in one.

use crate::cookies::CookieKeyError;
use crate::parse_error::ParseError;
use crate::shared_error::SharedError;

/// A configuration that cannot work: names the setting (an `IDME_*` variable, or the
/// builder method where no variable exists) and the rule it breaks.
///
/// ```
/// use idme_core::config::{ConfigError, Rule};
/// let err = idme_core::IdmeBuilder::new()
///     .client_id("c").client_secret("s")
///     .redirect_uri("https://app.example/auth/callback")
///     .session_idle_timeout(std::time::Duration::from_secs(10))
///     .build()
///     .unwrap_err();
/// assert!(matches!(
///     err,
///     ConfigError::Invalid { setting: "IDME_SESSION_IDLE_TIMEOUT", rule: Rule::AtLeastAMinute, .. }
/// ));
/// assert_eq!(err.setting(), Some("IDME_SESSION_IDLE_TIMEOUT"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting is not set (or is empty).
    #[error("{setting} is required: {hint}")]
    Missing {
        /// The setting.
        setting: &'static str,
        /// What to set it to.
        hint: &'static str,
    },
    /// A setting's value breaks a rule of its own.
    #[error("{setting}={value:?} {rule}")]
    Invalid {
        /// The setting.
        setting: &'static str,
        /// The refused value (never a secret).
        value: String,
        /// The rule it breaks.
        rule: Rule,
    },
    /// A URL setting does not parse.
    #[error("{setting}={value:?} is not a URL: {source}")]
    NotAUrl {
        /// The setting.
        setting: &'static str,
        /// The refused value.
        value: String,
        /// Why it does not parse.
        #[source]
        source: url::ParseError,
    },
    /// A URL setting parses, but its scheme or form is refused (plain `http` off loopback,
    /// a native redirect on `localhost`, …).
    #[error("{setting}={url} {rule}")]
    Url {
        /// The setting.
        setting: &'static str,
        /// The refused URL.
        url: String,
        /// The rule it breaks.
        rule: UrlRule,
    },
    /// Two settings contradict each other.
    #[error("{rule}")]
    Conflict {
        /// The two settings (a builder method such as `build_native` where the conflict is
        /// with the kind of application).
        settings: [&'static str; 2],
        /// The rule they break.
        rule: ConflictRule,
    },
    /// An environment variable's text is not one of the values it accepts.
    #[error("{var}={source}")]
    Env {
        /// The variable.
        var: &'static str,
        /// The value and what was expected.
        #[source]
        source: ParseError,
    },
    /// `IDME_COOKIE_KEYS` is not a list of base64 keys of 32 bytes or more (the keys are
    /// not repeated here).
    #[error("{var}: {source}")]
    CookieKeys {
        /// The variable (`IDME_COOKIE_KEYS`).
        var: &'static str,
        /// Which entry is wrong, by position.
        #[source]
        source: CookieKeyError,
    },
    /// A file named by a setting cannot be read.
    #[error("{setting}: cannot read {path:?}: {source}")]
    Unreadable {
        /// The setting.
        setting: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: SharedError,
    },
    /// A decryption key is not a usable RSA private key in PEM.
    #[error("decryption key: {source}")]
    DecryptionKey {
        /// Why the key was refused (never the key itself).
        #[source]
        source: SharedError,
    },
    /// A setting asks for something this build or this provider does not offer (a crate
    /// feature, an endpoint, a token).
    #[error("{rule}")]
    Unsupported {
        /// The setting.
        setting: &'static str,
        /// What is missing and what to change.
        rule: &'static str,
    },
    /// An endpoint of the provider (from discovery or the configuration) is not a URL a
    /// request can be sent to.
    #[error("{endpoint} endpoint is not a URL: {source}")]
    EndpointUrl {
        /// The endpoint (`authorization`, `token`, …).
        endpoint: &'static str,
        /// Why it does not parse (a [`url::ParseError`] or an [`http::Error`]).
        #[source]
        source: SharedError,
    },
    /// A native app's login names another redirect URI than the one configured.
    #[error("redirect URI {redirect_uri} does not match the registered {registered}")]
    RedirectMismatch {
        /// The redirect URI of the login.
        redirect_uri: String,
        /// The configured one.
        registered: String,
    },
    /// An [`Extension`](crate::extension::Extension) refused the configuration.
    #[error("{message}")]
    Extension {
        /// The extension's message.
        message: String,
    },
}

impl ConfigError {
    /// The setting to change: an `IDME_*` variable or a builder method (the first of two
    /// conflicting ones), if one is to blame.
    pub fn setting(&self) -> Option<&'static str> {
        match self {
            ConfigError::Missing { setting, .. }
            | ConfigError::Invalid { setting, .. }
            | ConfigError::NotAUrl { setting, .. }
            | ConfigError::Url { setting, .. }
            | ConfigError::Unreadable { setting, .. }
            | ConfigError::Unsupported { setting, .. } => Some(setting),
            ConfigError::Conflict { settings, .. } => Some(settings[0]),
            ConfigError::Env { var, .. } | ConfigError::CookieKeys { var, .. } => Some(var),
            ConfigError::DecryptionKey { .. } => Some("IDME_DECRYPTION_KEY_FILE"),
            ConfigError::RedirectMismatch { .. } => Some("IDME_REDIRECT_URI"),
            ConfigError::EndpointUrl { .. } | ConfigError::Extension { .. } => None,
        }
    }

    /// A setting's `value` breaking `rule`.
    pub(crate) fn invalid(setting: &'static str, value: impl Into<String>, rule: Rule) -> Self {
        ConfigError::Invalid {
            setting,
            value: value.into(),
            rule,
        }
    }

    /// A URL setting whose scheme or form breaks `rule`.
    pub(crate) fn url(setting: &'static str, url: &url::Url, rule: UrlRule) -> Self {
        ConfigError::Url {
            setting,
            url: url.to_string(),
            rule,
        }
    }

    /// The provider's `endpoint` that is not a usable URL.
    pub(crate) fn endpoint_url(
        endpoint: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ConfigError::EndpointUrl {
            endpoint,
            source: SharedError::new(source),
        }
    }

    /// `setting` asks for what this build or provider lacks; `rule` says what to change.
    pub(crate) fn unsupported(setting: &'static str, rule: &'static str) -> Self {
        ConfigError::Unsupported { setting, rule }
    }

    /// Two settings breaking `rule`.
    pub(crate) fn conflict(a: &'static str, b: &'static str, rule: ConflictRule) -> Self {
        ConfigError::Conflict {
            settings: [a, b],
            rule,
        }
    }
}

/// A rule a single setting's value breaks; its text follows the setting and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rule {
    /// A URL with a query or fragment.
    #[error("must not contain a query or fragment")]
    NoQueryOrFragment,
    /// A redirect URI with a query or fragment.
    #[error("must not contain a query or fragment: ID.me matches redirect URIs exactly")]
    ExactRedirectUri,
    /// Not a number of seconds.
    #[error("must be a number of seconds")]
    Seconds,
    /// Zero or negative.
    #[error("must be positive")]
    Positive,
    /// Shorter than a minute (the session idle timeout).
    #[error("must be at least 60 seconds")]
    AtLeastAMinute,
    /// Longer than a second (the session store cache).
    #[error("must be at most 1 s, so a logout on another instance takes effect within a second")]
    AtMostASecond,
    /// A clock skew above 5 minutes.
    #[error(
        "is above 5 minutes, which weakens expiry checks; use dangerous().insecure_clock_skew() in tests"
    )]
    AtMostFiveMinutes,
    /// Outside 1 second to 30 minutes (the login timeout).
    #[error("must be between 1 second and 30 minutes")]
    OneSecondToHalfAnHour,
    /// Not whole seconds up to `max` (`max_age`).
    #[error("must be whole seconds between 0 and {max}")]
    WholeSecondsUpTo {
        /// The largest value allowed.
        max: u64,
    },
    /// Neither true nor false.
    #[error("must be true or false")]
    Boolean,
    /// A route path without a leading slash.
    #[error("must start with '/'")]
    LeadingSlash,
    /// Not an origin that can be trusted (`scheme://host[:port]`, `https` or loopback
    /// `http`); `why` says which part is wrong.
    #[error("is not a trusted origin: {why}")]
    Origin {
        /// What is wrong with it.
        why: &'static str,
    },
    /// A file list that names no file.
    #[error("names no file")]
    NoFile,
}

/// Why a URL setting's scheme or form is refused; the text follows the setting and the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlRule {
    /// `http` to a host that is not loopback.
    #[error(
        "uses plain http off loopback: use https (http is allowed only for 127.0.0.1, [::1] or localhost)"
    )]
    PlainHttp,
    /// Neither `https` nor `http`.
    #[error("has scheme {scheme:?}: use https")]
    Scheme {
        /// The scheme.
        scheme: String,
    },
    /// A native app's redirect on `localhost` (RFC 8252 §8.3).
    #[error(
        "uses `localhost`: a native app listens on a loopback IP literal, http://127.0.0.1/callback or http://[::1]/callback (RFC 8252 §8.3)"
    )]
    NativeLocalhost,
    /// A native app's redirect over `http` off loopback.
    #[error(
        "uses plain http off loopback: use http://127.0.0.1/callback, a private-use scheme such as com.example.app:/oauth2redirect, or https"
    )]
    NativePlainHttp,
    /// A private-use scheme redirect that is not `scheme:/path` (RFC 8252 §7.1).
    #[error(
        "is not of the form {scheme}:/path a private-use scheme redirect has, with one slash and no host (RFC 8252 §7.1)"
    )]
    PrivateUseForm {
        /// The scheme.
        scheme: String,
    },
    /// Not a loopback IP literal, where a loopback listener is to receive the redirect
    /// (`idme-native`'s `NativeClient::login`).
    #[error(
        "is not a loopback redirect URI such as http://127.0.0.1/callback, which NativeClient::login listens on; private-use schemes go through Idme::start_native_login"
    )]
    NotLoopback,
    /// A loopback redirect URI over another scheme than `http`.
    #[error("is a loopback redirect URI, which uses http")]
    LoopbackNotHttp,
    /// A URL that cannot take the port a loopback listener got.
    #[error("takes no port")]
    NoPort,
    /// A native app's redirect whose scheme is not a reverse domain name (RFC 8252 §7.1).
    #[error(
        "has scheme {scheme:?}: a private-use scheme must be a reverse domain name with a dot, such as com.example.app (RFC 8252 §7.1)"
    )]
    NotReverseDomain {
        /// The scheme.
        scheme: String,
    },
}

/// A rule two settings break together; the text names both and what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConflictRule {
    /// `IDME_RESPONSE_MODE=query` with a response type that returns tokens.
    #[error(
        "IDME_RESPONSE_MODE=query cannot carry the tokens of response type `{response_type}`: use fragment or form_post"
    )]
    QueryModeCarriesNoTokens {
        /// The response type.
        response_type: &'static str,
    },
    /// `IDME_PKCE=true` with a response type that returns no code.
    #[error(
        "IDME_PKCE=true has no effect with response type `{response_type}`, which returns no code: remove it or choose a code flow"
    )]
    PkceWithoutCode {
        /// The response type.
        response_type: &'static str,
    },
    /// Scopes without `openid` (OAuth mode) with a response type other than `code` or `token`.
    #[error(
        "IDME_SCOPES without `openid` (OAuth mode) works only with IDME_RESPONSE_TYPE=code or token, not `{response_type}`: add openid or use code"
    )]
    OAuthModeResponseType {
        /// The response type.
        response_type: &'static str,
    },
    /// Response type `token` with `openid` in the scopes.
    #[error(
        "IDME_RESPONSE_TYPE=token is OAuth without an ID token: remove `openid` from IDME_SCOPES (the user is then identified by attributes.json), or use an OpenID Connect response type"
    )]
    TokenWithOpenid,
    /// An assurance level (IAL2, LOA3) with response type `id_token`, which returns no
    /// access token to confirm it.
    #[error(
        "IDME_SCOPES asks for {level}, which is confirmed by the granted scope of an access token: IDME_RESPONSE_TYPE=id_token returns none, choose code"
    )]
    AssuranceWithoutAccessToken {
        /// The scope asking for it.
        level: String,
    },
    /// A user-data source that needs an ID token, without `openid`.
    #[error(
        "IDME_USER_DATA={user_data} needs an ID token: without `openid` in IDME_SCOPES only attributes can identify the user"
    )]
    UserDataNeedsIdToken {
        /// The source.
        user_data: String,
    },
    /// A public client (`IDME_TOKEN_AUTH=none`) in a web application.
    #[error(
        "IDME_TOKEN_AUTH=none makes a public client, which only native apps may be: a web server keeps a client secret"
    )]
    PublicWebClient,
    /// A public client with a client secret.
    #[error(
        "IDME_TOKEN_AUTH=none is a public client, which has no secret: remove IDME_CLIENT_SECRET"
    )]
    PublicClientWithSecret,
    /// A public client without PKCE.
    #[error("a public client must use PKCE S256 (RFC 8252 §8.1): remove IDME_PKCE=false")]
    PublicClientWithoutPkce,
    /// A native app with a response type other than `code`.
    #[error(
        "native apps use the authorization code flow with PKCE, not response type `{response_type}`: remove IDME_RESPONSE_TYPE"
    )]
    NativeResponseType {
        /// The response type.
        response_type: &'static str,
    },
    /// A native app with a response mode other than `query`.
    #[error(
        "native apps receive the authorization response in the redirect's query: remove IDME_RESPONSE_MODE"
    )]
    NativeResponseMode,
    /// Several communities in one login outside ID.me production.
    #[error(
        "multi-community login (groups.id.me) exists only in ID.me production: in the sandbox, ask for one policy at a time"
    )]
    CommunitiesOutsideProduction,
}
