//! Which client may use which redirect URI (RFC 8252 §7, RFC 9700 §2.1): only the ones
//! it registered, compared exactly, except that a registered loopback URI matches on any
//! port (RFC 8252 §7.3).

use url::Url;

use crate::config::{AppClient, AppClients};

/// The registered client `id`.
pub(crate) fn find<'a>(clients: &'a AppClients, id: &str) -> Option<&'a AppClient> {
    clients.get(id)
}

/// Whether `client` may be sent to `uri`: one of its registered URIs, compared exactly;
/// for a registered loopback URI (`http://127.0.0.1/cb`, `http://[::1]/cb`), the same
/// address, path and query on any port. Never a fragment or user info; a client without
/// redirect URIs (a device) is never redirected.
pub(crate) fn redirect_allowed(client: &AppClient, uri: &str) -> bool {
    let Ok(url) = Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    if AppClient::is_loopback(&url) {
        return client.redirect_uris.iter().any(|r| {
            Url::parse(r).is_ok_and(|r| {
                AppClient::is_loopback(&r)
                    && r.host() == url.host()
                    && r.path() == url.path()
                    && r.query() == url.query()
            })
        });
    }
    client.redirect_uris.iter().any(|r| r == uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_exactly_loopback_on_any_port_nothing_else() {
        let c = AppClient::new("app")
            .redirect_uri("com.example.app:/callback")
            .redirect_uri("http://127.0.0.1/callback")
            .redirect_uri("http://[::1]/cb?x=1");
        for ok in [
            "http://127.0.0.1:49152/callback",
            "http://127.0.0.1/callback",
            "http://[::1]:8080/cb?x=1",
            "com.example.app:/callback",
        ] {
            assert!(redirect_allowed(&c, ok), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:49152/cb",
            "http://127.0.0.1:49152/callback?x=1",
            "http://[::1]:8080/cb",
            "http://[::1]:8080/callback",
            "http://localhost:8080/callback",
            "http://127.0.0.2:8080/callback",
            "https://127.0.0.1:8080/callback",
            "http://example.com/callback",
            "com.example.app:/callback2",
            "com.evil.app:/callback",
            "http://127.0.0.1:8080/callback#frag",
            "http://user@127.0.0.1:8080/callback",
            "not a uri",
        ] {
            assert!(!redirect_allowed(&c, bad), "{bad}");
        }
        let device = AppClient::new("tv");
        assert!(!redirect_allowed(
            &device,
            "http://127.0.0.1:49152/callback"
        ));
    }
}
