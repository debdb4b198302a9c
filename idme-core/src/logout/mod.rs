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

/// Whether a logout request comes from the application's own pages: `Origin` equal to
/// the application's origin (that of `app`), or, when a browser sent no `Origin`,
/// `Sec-Fetch-Site: same-origin` or `none`. `Sec-Fetch-Site: cross-site` or `same-site`
/// refuses the request whatever `Origin` says; no signal at all refuses it too.
pub(crate) fn is_same_origin(
    app: &Url,
    origin: Option<&str>,
    sec_fetch_site: Option<&str>,
) -> bool {
    let site = sec_fetch_site.map(|s| s.trim().to_ascii_lowercase());
    if matches!(site.as_deref(), Some("cross-site" | "same-site")) {
        return false;
    }
    match origin.map(str::trim) {
        Some(origin) => origin == app.origin().ascii_serialization(),
        None => matches!(site.as_deref(), Some("same-origin" | "none")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logout_needs_a_same_origin_signal() {
        let app = Url::parse("https://app.example/auth/callback").unwrap();
        let ours = Some("https://app.example");
        for (origin, site, ok) in [
            (None, None, false),
            (None, Some("same-origin"), true),
            (None, Some("none"), true),
            (None, Some("cross-site"), false),
            (None, Some("same-site"), false),
            (ours, None, true),
            (ours, Some("same-origin"), true),
            (ours, Some("cross-site"), false),
            (Some("https://evil.example"), None, false),
            (Some("https://evil.example"), Some("same-origin"), false),
            (Some("null"), Some("same-origin"), false),
        ] {
            assert_eq!(
                is_same_origin(&app, origin, site),
                ok,
                "{origin:?} {site:?}"
            );
        }
    }

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
