//! Which client may use which redirect URI (RFC 8252 §7, RFC 9700 §2.1): loopback IP
//! literals on any port for every client, anything else only as registered, exactly.

use url::Url;

use crate::config::{AppClient, AppClients};

/// The registered client `id`.
pub(crate) fn find<'a>(clients: &'a AppClients, id: &str) -> Option<&'a AppClient> {
    clients.get(id)
}

/// Whether `client` may be sent to `uri`: `http://127.0.0.1:<port>/…` or
/// `http://[::1]:<port>/…` (any port; `localhost` is refused, as RFC 8252 §8.3 advises),
/// or a URI registered for the client, compared exactly. Never a fragment or user info.
pub(crate) fn redirect_allowed(client: &AppClient, uri: &str) -> bool {
    let Ok(url) = Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    if url.scheme() == "http" {
        return match url.host() {
            Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
            Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
            _ => false,
        };
    }
    client.redirect_uris.iter().any(|r| r == uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_any_port_registered_exactly_nothing_else() {
        let c = AppClient::new("app").redirect_uri("com.example.app:/callback");
        for ok in [
            "http://127.0.0.1:49152/callback",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/x?y=1",
            "com.example.app:/callback",
        ] {
            assert!(redirect_allowed(&c, ok), "{ok}");
        }
        for bad in [
            "http://localhost:8080/callback",
            "http://127.0.0.2:8080/callback",
            "http://example.com/callback",
            "https://example.com/callback",
            "com.example.app:/callback2",
            "com.evil.app:/callback",
            "http://127.0.0.1:8080/cb#frag",
            "http://user@127.0.0.1:8080/cb",
            "not a uri",
        ] {
            assert!(!redirect_allowed(&c, bad), "{bad}");
        }
    }
}
