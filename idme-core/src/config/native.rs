//! Native applications (OAuth 2.0 for Native Apps, RFC 8252): desktop and command-line apps
//! that receive the authorization response on a loopback listener or, on mobile, through a
//! private-use URI scheme. They may be public clients: no secret, PKCE S256 mandatory.

use url::{Host, Url};

use super::{IdmeBuilder, IdmeConfig, TokenAuthMethod};
use crate::config::{ResponseMode, ResponseType};
use crate::error::Error;

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
    pub fn build_native(self) -> Result<IdmeConfig, Error> {
        let config = self.build_for(Client::Native)?;
        if config.response_mode != ResponseMode::Query {
            return Err(Error::config(
                "native apps receive the authorization response in the redirect's query: remove IDME_RESPONSE_MODE",
            ));
        }
        Ok(config)
    }
}

/// The redirect URIs a native application may register.
pub(super) fn check_redirect_uri(uri: &Url) -> Result<(), Error> {
    match uri.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_ip(uri) => Ok(()),
        "http" if uri.host_str() == Some("localhost") => Err(Error::config(format!(
            "IDME_REDIRECT_URI={uri} uses `localhost`: a native app listens on a loopback IP literal, http://127.0.0.1/callback or http://[::1]/callback (RFC 8252 §8.3)"
        ))),
        "http" => Err(Error::config(format!(
            "IDME_REDIRECT_URI={uri} uses plain http off loopback: use http://127.0.0.1/callback, a private-use scheme such as com.example.app:/oauth2redirect, or https"
        ))),
        scheme if is_private_use_scheme(scheme) => {
            if uri.path().starts_with('/') && uri.host().is_none() {
                Ok(())
            } else {
                Err(Error::config(format!(
                    "IDME_REDIRECT_URI={uri}: a private-use scheme redirect has the form {scheme}:/path, with one slash and no host (RFC 8252 §7.1)"
                )))
            }
        }
        scheme => Err(Error::config(format!(
            "IDME_REDIRECT_URI={uri} has scheme {scheme:?}: a private-use scheme must be a reverse domain name with a dot, such as com.example.app (RFC 8252 §7.1)"
        ))),
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
) -> Result<(), Error> {
    let public = auth == TokenAuthMethod::None;
    if client == Client::Web && public {
        return Err(Error::config(
            "IDME_TOKEN_AUTH=none makes a public client, which only native apps may be: a web server keeps a client secret",
        ));
    }
    if client == Client::Native && rt != ResponseType::Code {
        return Err(Error::config(format!(
            "native apps use the authorization code flow with PKCE, not response type `{}`: remove IDME_RESPONSE_TYPE",
            rt.as_str()
        )));
    }
    if public && has_secret {
        return Err(Error::config(
            "IDME_TOKEN_AUTH=none is a public client, which has no secret: remove IDME_CLIENT_SECRET",
        ));
    }
    if public && !pkce {
        return Err(Error::config(
            "a public client must use PKCE S256 (RFC 8252 §8.1): remove IDME_PKCE=false",
        ));
    }
    if client == Client::Native && !public && !has_secret {
        return Err(Error::config(
            "IDME_CLIENT_SECRET is not set: for a public native client (no secret) set IDME_TOKEN_AUTH=none",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "native_tests.rs"]
mod tests;
