//! The consent page of the code + PKCE relay (RFC 8252 §8.6, RFC 6749 §10.2): any program
//! on the person's machine can open their browser at `/auth/authorize` with a loopback or
//! private-use redirect, so no code leaves before the person allows it. The page names the
//! client, what it asks for and where the person goes back to; its form carries the request
//! and a CSRF token bound to the web session and to that very request, and the decision is
//! taken only from this site (`Sec-Fetch-Site: same-origin`, or the app's `Origin`).

use serde::{Deserialize, Serialize};
use url::Url;

use super::codes::{hash, same};
use crate::config::AppClient;
use crate::server::Ctx;
use idme_core::Reply;
use idme_core::html::escape;
use idme_core::html::page;

/// The seal name of the consent form's CSRF token.
const CSRF_NAME: &str = "idme_consent_csrf";
/// How long a consent form may be left open (seconds).
const CSRF_LIFETIME: u64 = 600;

/// The consent form's CSRF token: bound to the web session and the request it shows.
#[derive(Serialize, Deserialize)]
struct Csrf {
    sid: String,
    /// SHA-256 (hex) of the form's `request`.
    req: String,
    exp: u64,
}

/// A CSRF token for the web session `sid` and the form's `request`, as of `now`.
pub(crate) fn csrf(config: &Ctx, sid: &str, request: &str, now: u64) -> String {
    let token = Csrf {
        sid: sid.to_owned(),
        req: hash(request),
        exp: now.saturating_add(CSRF_LIFETIME),
    };
    config.cookie_keys.seal_compact(CSRF_NAME, &token)
}

/// Whether `token` is a live CSRF token of the web session `sid` for `request`.
pub(crate) fn csrf_ok(config: &Ctx, token: &str, sid: &str, request: &str, now: u64) -> bool {
    config
        .cookie_keys
        .open_compact::<Csrf>(CSRF_NAME, token)
        .is_some_and(|t| t.exp > now && t.sid == sid && same(&t.req, &hash(request)))
}

/// Whether a `POST` says it comes from this site, by the engine's one rule
/// ([`idme_core::cross_site`]): an `Origin` equal to the app's, or `Sec-Fetch-Site:
/// same-origin` (the engine's pages are served with `Referrer-Policy: no-referrer`, so
/// browsers post their forms with `Origin: null`, which says nothing). The application's
/// trusted origins do not count here: only the engine's own pages post these forms.
pub(crate) fn same_origin(app_origin: &str, origin: Option<&str>, site: Option<&str>) -> bool {
    let own = idme_core::cross_site::SiteOrigins::new(app_origin, Vec::new());
    own.allows(idme_core::cross_site::Provenance {
        origin,
        sec_fetch_site: site,
    })
}

/// What the consent page shows and posts.
pub(crate) struct Consent<'a> {
    pub(crate) action: &'a str,
    pub(crate) client: &'a AppClient,
    pub(crate) scope: &'a [String],
    pub(crate) redirect_uri: &'a str,
    /// The application's origin: what the client will act as the person in.
    pub(crate) site: &'a str,
    /// How long the grant may live (seconds).
    pub(crate) lifetime: u64,
    /// The request, as the form posts it back.
    pub(crate) request: &'a str,
    pub(crate) csrf: &'a str,
}

/// The consent page: one form posting `request`, `csrf` and `decision` (`allow` or
/// `deny`) to `action`. Its CSP lets that form lead to the app (`form-action`, which
/// browsers also apply to the redirect after the post).
pub(crate) fn page_reply(notice: Option<&str>, c: &Consent<'_>) -> Reply {
    let target = Url::parse(c.redirect_uri).ok();
    let (back_to, form_target) = match &target {
        Some(url) if url.scheme() == "http" || url.scheme() == "https" => {
            let origin = url.origin().ascii_serialization();
            let place = if AppClient::is_loopback(url) {
                format!("an app on this computer, at {origin}")
            } else {
                origin.clone()
            };
            // CSP sources cannot name an IPv6 literal: the scheme stands for it.
            let source = match url.host() {
                Some(url::Host::Ipv6(_)) => format!("{}:", url.scheme()),
                _ => origin,
            };
            (place, source)
        }
        Some(url) => (
            format!("the app that opens {}: links", url.scheme()),
            format!("{}:", url.scheme()),
        ),
        None => (String::new(), String::new()),
    };
    let unnamed = if c.client.has_display_name() {
        String::new()
    } else {
        "<p id=\"unnamed\">This site has not named this app: it is shown by the id it was \
         registered with.</p>"
            .to_owned()
    };
    let verified = if c.scope.is_empty() {
        String::new()
    } else {
        let items: String = c
            .scope
            .iter()
            .map(|p| format!("<li>{}</li>", escape(&super::pages::policy_label(p))))
            .collect();
        format!("<li>see whether ID.me verified: <ul id=\"policies\">{items}</ul></li>")
    };
    let body = format!(
        "<h1>Allow this app to sign in as you?</h1>\
         <p><strong id=\"client\">{client}</strong> asks to sign in to \
         <strong id=\"site\">{site}</strong> as you.</p>{unnamed}\
         <p>Allow it only if you started signing in to this app yourself, just now. \
         If you did not, deny.</p>\
         <p>If you allow it, it will be able to:</p><ul id=\"abilities\">\
         <li>act as you in {site} for up to <span id=\"lifetime\">{lifetime}</span>, \
         unless you sign out or its access is revoked;</li>\
         <li>see your ID.me identity as this site sees it (such as your name and email \
         address);</li>{verified}</ul>\
         <p>Then you go back to <strong id=\"return-to\">{back_to}</strong>.</p>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request\" value=\"{request}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        client = display_name(c.client),
        site = escape(c.site),
        lifetime = human_duration(c.lifetime),
        back_to = escape(&back_to),
        action = escape(c.action),
        request = escape(c.request),
        csrf = escape(c.csrf),
    );
    // Only characters a CSP source may hold: an origin's, or a scheme's.
    let form_target: String = form_target
        .chars()
        .filter(|ch| ch.is_ascii_alphanumeric() || ":/.-+".contains(*ch))
        .collect();
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
         form-action 'self' {form_target}; frame-ancestors 'none'"
    );
    Reply::html_with_csp(200, page(notice, "Allow access", &body), csp)
}

/// The client's name for people, escaped: its display name, else its id.
pub(crate) fn display_name(client: &AppClient) -> String {
    escape(client.display_name_or_id())
}

/// `secs` for people: whole days, else hours, else minutes.
pub(crate) fn human_duration(secs: u64) -> String {
    let (n, unit) = match secs {
        s if s >= 86_400 => (s / 86_400, "day"),
        s if s >= 3_600 => (s / 3_600, "hour"),
        s => ((s / 60).max(1), "minute"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(human_duration(30 * 86_400), "30 days");
        assert_eq!(human_duration(86_400), "1 day");
        assert_eq!(human_duration(7_200), "2 hours");
        assert_eq!(human_duration(600), "10 minutes");
        assert_eq!(human_duration(5), "1 minute");
    }

    #[test]
    fn only_a_positive_same_origin_signal_counts() {
        let app = "https://app.example";
        assert!(same_origin(app, None, Some("same-origin")));
        assert!(same_origin(app, Some("null"), Some("Same-Origin")));
        assert!(same_origin(app, Some(app), None));
        // Typed or bookmarked by the person: no site could have sent it.
        assert!(same_origin(app, None, Some("none")));
        for (origin, site) in [
            (None, None),
            (Some("null"), None),
            (None, Some("cross-site")),
            (None, Some("same-site")),
            (Some("https://evil.example"), Some("same-origin")),
            (Some(app), Some("cross-site")),
        ] {
            assert!(!same_origin(app, origin, site), "{origin:?} {site:?}");
        }
    }
}
