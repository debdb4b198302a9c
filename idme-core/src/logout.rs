//! Where the browser goes after the local session ends: the provider's logout.

use url::Url;

use crate::config::IdmeConfig;
use crate::provider::ProviderMetadata;

/// The provider logout URL: the discovered `end_session_endpoint` (OIDC RP-Initiated
/// Logout, with `client_id` and `post_logout_redirect_uri`), else ID.me's `/oauth/logout`
/// (with `client_id` and `redirect_uri`) for ID.me's own installations, else none.
pub(crate) fn provider_logout_url(config: &IdmeConfig, meta: &ProviderMetadata) -> Option<String> {
    let back = config.post_logout_redirect_uri.as_str();
    if let Some(end) = meta.end_session_endpoint.as_deref() {
        let mut url = Url::parse(end).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &config.client_id)
            .append_pair("post_logout_redirect_uri", back);
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
