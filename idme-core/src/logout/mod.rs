//! Where the browser goes after the local session ends: the provider's logout; and the
//! back-channel logout token the provider posts ([`token`]).

use url::Url;

pub(crate) mod token;

use crate::config::IdmeConfig;
use crate::provider::ProviderMetadata;

/// The provider logout URL: the discovered `end_session_endpoint` (OIDC RP-Initiated
/// Logout, with `client_id`, `post_logout_redirect_uri` and, when the session kept it,
/// `id_token_hint`), else ID.me's `/oauth/logout`
/// (with `client_id` and `redirect_uri`) for ID.me's own installations, else none.
pub(crate) fn provider_logout_url(
    config: &IdmeConfig,
    meta: &ProviderMetadata,
    id_token_hint: Option<&str>,
) -> Option<String> {
    let back = config.post_logout_redirect_uri.as_str();
    if let Some(end) = meta.end_session_endpoint.as_deref() {
        let mut url = Url::parse(end).ok()?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &config.client_id)
                .append_pair("post_logout_redirect_uri", back);
            if let Some(hint) = id_token_hint {
                q.append_pair("id_token_hint", hint);
            }
        }
        return Some(url.into());
    }
    if config.environment.is_idme() {
        let mut url = Url::parse(&meta.authorization_endpoint).ok()?;
        url.set_path("/oauth/logout");
        url.set_query(None);
        url.query_pairs_mut()
            .append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", back);
        return Some(url.into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(end_session: Option<&str>) -> ProviderMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": "https://api.id.me/oidc",
            "authorization_endpoint": "https://api.id.me/oauth/authorize",
            "token_endpoint": "https://api.id.me/oauth/token",
            "jwks_uri": "https://api.id.me/oidc/.well-known/jwks",
            "end_session_endpoint": end_session,
        }))
        .unwrap()
    }

    fn config() -> IdmeConfig {
        crate::IdmeBuilder::new()
            .client_id("cid")
            .client_secret("s")
            .redirect_uri("https://app.example/auth/callback")
            .cookie_keys(crate::CookieKeys::random())
            .build()
            .unwrap()
    }

    #[test]
    fn rp_initiated_logout_with_hint() {
        let url = provider_logout_url(
            &config(),
            &meta(Some("https://idp.example/end")),
            Some("a.b.c"),
        )
        .unwrap();
        assert_eq!(
            url,
            "https://idp.example/end?client_id=cid&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2F&id_token_hint=a.b.c"
        );
    }

    #[test]
    fn idme_logout_without_end_session_endpoint() {
        let url = provider_logout_url(&config(), &meta(None), None).unwrap();
        assert_eq!(
            url,
            "https://api.id.me/oauth/logout?client_id=cid&redirect_uri=https%3A%2F%2Fapp.example%2F"
        );
    }
}
