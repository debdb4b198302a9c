//! Native applications (OAuth 2.0 for Native Apps, RFC 8252): desktop and command-line apps
//! that receive the authorization response on a loopback listener or, on mobile, through a
//! private-use URI scheme. They may be public clients: no secret, PKCE S256 mandatory.

use url::{Host, Url};

use super::{IdmeBuilder, IdmeConfig, TokenAuthMethod};
use crate::config::{ResponseMode, ResponseType};
use crate::config_error::{ConfigError, ConflictRule, UrlRule};

/// Which kind of application a configuration is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Client {
    /// A web server: a confidential client with an `https` (or loopback) redirect URI.
    Web,
    /// A desktop, command-line or mobile app (RFC 8252).
    Native,
}

impl IdmeBuilder {
    /// Validates and builds the configuration of a native application (RFC 8252).
    ///
    /// Beside what [`build`](Self::build) checks:
    /// - the redirect URI is a loopback IP literal over `http` (`http://127.0.0.1/callback`
    ///   or `http://[::1]/callback`: without a port, any port is accepted at runtime,
    ///   §7.3; `localhost` is refused, §8.3), a private-use scheme in reverse-domain form
    ///   (`com.example.app:/oauth2redirect`, §7.1), or `https` (§7.2);
    /// - a public client ([`TokenAuthMethod::None`], `IDME_TOKEN_AUTH=none`) has no secret
    ///   and uses PKCE S256, which cannot be turned off;
    /// - the flow is the authorization code flow with the response in the query.
    pub fn build_native(self) -> Result<IdmeConfig, ConfigError> {
        let config = self.build_for(Client::Native)?;
        if config.response_mode != ResponseMode::Query {
            return Err(ConfigError::conflict(
                "IDME_RESPONSE_MODE",
                "build_native",
                ConflictRule::NativeResponseMode,
            ));
        }
        Ok(config)
    }
}

/// The redirect URIs a native application may register.
pub(super) fn check_redirect_uri(uri: &Url) -> Result<(), ConfigError> {
    let refused = |rule| Err(ConfigError::url("IDME_REDIRECT_URI", uri, rule));
    match uri.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_ip(uri) => Ok(()),
        "http" if uri.host_str() == Some("localhost") => refused(UrlRule::NativeLocalhost),
        "http" => refused(UrlRule::NativePlainHttp),
        scheme if is_private_use_scheme(scheme) => {
            if uri.path().starts_with('/') && uri.host().is_none() {
                Ok(())
            } else {
                refused(UrlRule::PrivateUseForm {
                    scheme: scheme.to_owned(),
                })
            }
        }
        scheme => refused(UrlRule::NotReverseDomain {
            scheme: scheme.to_owned(),
        }),
    }
}

/// A reverse-domain scheme (`com.example.app`): at least one dot, no empty label.
pub(crate) fn is_private_use_scheme(scheme: &str) -> bool {
    scheme.contains('.') && scheme.split('.').all(|label| !label.is_empty())
}

/// `127.0.0.1` (or any 127/8 address) or `[::1]`: an IP literal, never a name.
fn is_loopback_ip(uri: &Url) -> bool {
    match uri.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// Whether the redirect URI of one login may be `actual` when `registered` is configured:
/// the very same URI, or, when a loopback IP literal over `http` is registered without a
/// port, the same URI on any port (RFC 8252 §7.3).
pub(crate) fn redirect_uri_matches(registered: &Url, actual: &Url) -> bool {
    if registered.as_str() == actual.as_str() {
        return true;
    }
    registered.scheme() == "http"
        && actual.scheme() == "http"
        && is_loopback_ip(registered)
        && registered.port().is_none()
        && actual.host() == registered.host()
        && actual.port().is_some()
        && actual.path() == registered.path()
        && actual.username().is_empty()
        && actual.password().is_none()
        && actual.query().is_none()
        && actual.fragment().is_none()
}

/// The client checks that depend on the kind of application.
pub(super) fn check_client(
    client: Client,
    auth: TokenAuthMethod,
    has_secret: bool,
    pkce: bool,
    rt: ResponseType,
) -> Result<(), ConfigError> {
    let public = auth == TokenAuthMethod::None;
    if client == Client::Web && public {
        return Err(ConfigError::conflict(
            "IDME_TOKEN_AUTH",
            "build",
            ConflictRule::PublicWebClient,
        ));
    }
    if client == Client::Native && rt != ResponseType::Code {
        return Err(ConfigError::conflict(
            "IDME_RESPONSE_TYPE",
            "build_native",
            ConflictRule::NativeResponseType {
                response_type: rt.as_str(),
            },
        ));
    }
    if public && has_secret {
        return Err(ConfigError::conflict(
            "IDME_TOKEN_AUTH",
            "IDME_CLIENT_SECRET",
            ConflictRule::PublicClientWithSecret,
        ));
    }
    if public && !pkce {
        return Err(ConfigError::conflict(
            "IDME_TOKEN_AUTH",
            "IDME_PKCE",
            ConflictRule::PublicClientWithoutPkce,
        ));
    }
    if client == Client::Native && !public && !has_secret {
        return Err(ConfigError::Missing {
            setting: "IDME_CLIENT_SECRET",
            hint: "the secret of a confidential client; for a public native client (no secret) set IDME_TOKEN_AUTH=none",
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "native_tests.rs"]
mod tests;
