//! Native-app clients (OAuth 2.0 for Native Apps, RFC 8252): which redirect URIs match a
//! registered one, and the rules for public clients.

use axum::http::{HeaderMap, header};
use url::{Host, Url};

use super::Params;

use crate::state::Shared;

/// Whether `uri` may be the redirect URI of an authorization request: exactly a registered
/// one, or, when `http://127.0.0.1/callback` (or `[::1]`) is registered without a port, the
/// same URI on any port (RFC 8252 §7.3). Only loopback IP literals, only the port varies.
pub(super) fn is_allowed_redirect(shared: &Shared, uri: &str) -> bool {
    shared.is_registered_redirect(uri)
        || shared
            .redirect_uris()
            .iter()
            .any(|r| loopback_any_port(r, uri))
}

fn loopback_any_port(registered: &str, uri: &str) -> bool {
    let (Ok(registered), Ok(actual)) = (Url::parse(registered), Url::parse(uri)) else {
        return false;
    };
    let loopback_ip = match registered.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    loopback_ip
        && registered.scheme() == "http"
        && registered.port().is_none()
        && actual.scheme() == "http"
        && actual.host() == registered.host()
        && actual.port().is_some()
        && actual.path() == registered.path()
        && actual.username().is_empty()
        && actual.password().is_none()
        && actual.query() == registered.query()
        && actual.fragment().is_none()
}

/// A public client must send a PKCE S256 challenge with every code request (RFC 8252 §8.1).
pub(super) fn public_client_needs_pkce(
    shared: &Shared,
    returns_code: bool,
    has_challenge: bool,
) -> bool {
    shared.public_client && returns_code && !has_challenge
}

/// Token-endpoint authentication of a public client (`token_endpoint_auth_method=none`):
/// `client_id` in the body, and no secret in any form. PKCE binds the code instead.
pub(super) fn authenticate_public(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
) -> Result<String, &'static str> {
    if headers.contains_key(header::AUTHORIZATION) || params.get("client_secret").is_some() {
        return Err("a public client has no secret: send only client_id");
    }
    match params.get("client_id") {
        None => Err("client_id is missing"),
        Some(id) if id == shared.client_id => Ok(id.to_owned()),
        Some(_) => Err("unknown client"),
    }
}
