//! The discovery document (`{issuer}/.well-known/openid-configuration`).

use serde::Deserialize;

use crate::error::{Error, ProviderMisbehaved};

/// The parts of the provider's discovery document the engine uses.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub(crate) struct ProviderMetadata {
    /// The issuer; equal to the configured one.
    pub(crate) issuer: String,
    /// Where the browser is sent to sign in.
    pub(crate) authorization_endpoint: String,
    /// Where codes are exchanged.
    pub(crate) token_endpoint: String,
    /// The userinfo endpoint, if any.
    #[serde(default)]
    pub(crate) userinfo_endpoint: Option<String>,
    /// The JWKS.
    pub(crate) jwks_uri: String,
    /// RP-initiated logout, if advertised (ID.me does not; its logout URL is known).
    #[serde(default)]
    pub(crate) end_session_endpoint: Option<String>,
    /// RFC 9207: whether the provider puts `iss` on every authorization response.
    #[serde(default)]
    pub(crate) authorization_response_iss_parameter_supported: bool,
}

pub(super) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

impl ProviderMetadata {
    pub(super) fn parse(body: &[u8], expected_issuer: &str) -> Result<Self, Error> {
        let meta: ProviderMetadata = serde_json::from_slice(body).map_err(|e| {
            tracing::warn!(target: "idme::provider", error = %e, "discovery document does not parse");
            ProviderMisbehaved::MalformedDiscovery
        })?;
        if meta.issuer != expected_issuer {
            return Err(ProviderMisbehaved::DiscoveryIssuerMismatch(meta.issuer).into());
        }
        let issuer_is_http = expected_issuer.starts_with("http://");
        for endpoint in [
            Some(&meta.authorization_endpoint),
            Some(&meta.token_endpoint),
            Some(&meta.jwks_uri),
            meta.userinfo_endpoint.as_ref(),
            meta.end_session_endpoint.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            let ok = match url::Url::parse(endpoint) {
                Ok(u) if u.scheme() == "https" => true,
                Ok(u) if u.scheme() == "http" => issuer_is_http && crate::config::is_loopback(&u),
                _ => false,
            };
            if !ok {
                tracing::warn!(target: "idme::provider", %endpoint, "discovery names an endpoint that is not https");
                return Err(ProviderMisbehaved::MalformedDiscovery.into());
            }
        }
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"issuer":"https://api.id.me/oidc","authorization_endpoint":"https://api.id.me/oauth/authorize",
        "token_endpoint":"https://api.id.me/oauth/token","userinfo_endpoint":"https://api.id.me/api/public/v3/userinfo",
        "jwks_uri":"https://api.id.me/oidc/.well-known/jwks","response_types_supported":["code"]}"#;

    #[test]
    fn parses_idme_shape() {
        let m = ProviderMetadata::parse(DOC.as_bytes(), "https://api.id.me/oidc").unwrap();
        assert!(m.end_session_endpoint.is_none());
        assert!(!m.authorization_response_iss_parameter_supported);
    }

    #[test]
    fn issuer_must_match_exactly() {
        let e = ProviderMetadata::parse(DOC.as_bytes(), "https://api.id.me/oidc/").unwrap_err();
        assert!(matches!(
            e,
            Error::ProviderMisbehaved(ProviderMisbehaved::DiscoveryIssuerMismatch(_))
        ));
    }

    #[test]
    fn plain_http_endpoints_are_refused_for_https_issuers() {
        let doc = DOC.replace("https://api.id.me/oauth/token", "http://127.0.0.1/token");
        assert!(ProviderMetadata::parse(doc.as_bytes(), "https://api.id.me/oidc").is_err());
    }

    #[test]
    fn url() {
        assert_eq!(
            discovery_url("https://api.id.me/oidc"),
            "https://api.id.me/oidc/.well-known/openid-configuration"
        );
    }
}
