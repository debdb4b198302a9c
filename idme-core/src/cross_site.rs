//! The cross-site rule, written once: whether a request that would act with the browser's
//! session cookie comes from the application's own pages. The logout route, the
//! application's own routes (through each adapter's `IdmeUser` and `SameOrigin` guards) and
//! extensions' forms (`idme-apps`' consent and device pages) all ask it.
//!
//! A request with a safe method (`GET`, `HEAD`, `OPTIONS`, `TRACE`) passes: it must not
//! change anything. Any other passes only with a same-origin signal from the browser:
//! - `Origin` equal to the application's origin, or to one of the configured trusted
//!   origins (exact: scheme, host and port);
//! - or, when `Origin` is absent or `null` (a form posted from a page with
//!   `Referrer-Policy: no-referrer` sends `null`), `Sec-Fetch-Site: same-origin` (or
//!   `none`: a request the person started themselves).
//!
//! `Sec-Fetch-Site: cross-site` or `same-site` (a sibling subdomain) refuses the request
//! unless its `Origin` is a trusted origin; any other `Origin` refuses it; no signal at
//! all refuses it. Browsers have sent `Origin` on every `POST` for years and
//! `Sec-Fetch-Site` since 2020–2023; a client that is not a browser carries no ambient
//! authority and authenticates with a bearer token, which this rule does not concern.

/// Whether `method` may change state: anything but `GET`, `HEAD`, `OPTIONS` and `TRACE`
/// (RFC 9110 §9.2.1).
pub fn is_unsafe_method(method: &str) -> bool {
    !["GET", "HEAD", "OPTIONS", "TRACE"]
        .iter()
        .any(|safe| method.eq_ignore_ascii_case(safe))
}

/// Where a request says it comes from: its `Origin` and `Sec-Fetch-Site` headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Provenance<'a> {
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `Sec-Fetch-Site` header.
    pub sec_fetch_site: Option<&'a str>,
}

/// The application's own origin and the origins it trusts besides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteOrigins {
    own: String,
    trusted: Vec<String>,
}

impl SiteOrigins {
    /// `own` (an ASCII-serialised origin, `https://app.example`) and the `trusted` ones.
    pub fn new(own: impl Into<String>, trusted: Vec<String>) -> Self {
        Self {
            own: own.into(),
            trusted,
        }
    }

    /// The application's origin.
    pub fn own(&self) -> &str {
        &self.own
    }

    /// The other origins whose pages may act with the session cookie.
    pub fn trusted(&self) -> &[String] {
        &self.trusted
    }

    /// Whether a request with an unsafe method and this `provenance` comes from the
    /// application's own pages (or a trusted origin's). See the [module docs](self).
    pub fn allows(&self, provenance: Provenance<'_>) -> bool {
        let site = provenance
            .sec_fetch_site
            .map(|s| s.trim().to_ascii_lowercase());
        let origin = provenance
            .origin
            .map(str::trim)
            .filter(|o| !o.eq_ignore_ascii_case("null"));
        if let Some(origin) = origin
            && self.trusted.iter().any(|t| t == origin)
        {
            return true;
        }
        if matches!(site.as_deref(), Some("cross-site" | "same-site")) {
            return false;
        }
        match origin {
            Some(origin) => origin == self.own,
            None => matches!(site.as_deref(), Some("same-origin" | "none")),
        }
    }

    /// Whether a request with `method` and `provenance` may act with the session cookie:
    /// a safe method always, an unsafe one when [`allows`](Self::allows) says so.
    pub fn permits(&self, method: &str, provenance: Provenance<'_>) -> bool {
        !is_unsafe_method(method) || self.allows(provenance)
    }
}

/// An origin as a trusted origin must be written: `scheme://host[:port]` with nothing
/// after it, `https` (or `http` on a loopback host). Returns its ASCII serialisation.
pub(crate) fn parse_origin(raw: &str) -> Result<String, &'static str> {
    let url = url::Url::parse(raw.trim()).map_err(|_| "not a URL")?;
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !raw.trim().ends_with('/');
    if !bare {
        return Err("an origin is scheme://host[:port] with no path, query or user");
    }
    let loopback = matches!(
        url.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("an origin must be https (http only on a loopback host)"),
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://app.example";

    fn origins() -> SiteOrigins {
        SiteOrigins::new(OWN, vec!["https://spa.example.net".into()])
    }

    #[test]
    fn only_a_same_origin_signal_lets_an_unsafe_request_act() {
        let ours = Some(OWN);
        let trusted = Some("https://spa.example.net");
        let sibling = Some("https://evil.app.example");
        for (origin, site, ok) in [
            // No signal at all.
            (None, None, false),
            // Sec-Fetch-Site alone.
            (None, Some("same-origin"), true),
            (None, Some("Same-Origin "), true),
            (None, Some("none"), true),
            (None, Some("cross-site"), false),
            (None, Some("same-site"), false),
            (None, Some("bogus"), false),
            // Origin alone, and with a consistent Sec-Fetch-Site.
            (ours, None, true),
            (ours, Some("same-origin"), true),
            // The app's Origin contradicted by the browser's own Sec-Fetch-Site.
            (ours, Some("cross-site"), false),
            (ours, Some("same-site"), false),
            // Foreign origins.
            (Some("https://evil.example"), None, false),
            (Some("https://evil.example"), Some("same-origin"), false),
            (sibling, Some("same-site"), false),
            (Some("http://app.example"), None, false),
            (Some("https://app.example:8443"), None, false),
            (Some("https://app.example/"), None, false),
            // `null` says nothing: Sec-Fetch-Site decides.
            (Some("null"), None, false),
            (Some("null"), Some("same-origin"), true),
            (Some("null"), Some("cross-site"), false),
            // A trusted origin, from another site.
            (trusted, Some("cross-site"), true),
            (trusted, None, true),
            (
                Some("https://spa.example.net:444"),
                Some("cross-site"),
                false,
            ),
        ] {
            let p = Provenance {
                origin,
                sec_fetch_site: site,
            };
            assert_eq!(origins().allows(p), ok, "{origin:?} {site:?}");
        }
    }

    #[test]
    fn safe_methods_pass_and_every_other_needs_the_signal() {
        let none = Provenance::default();
        for m in ["GET", "head", "OPTIONS", "TRACE"] {
            assert!(origins().permits(m, none), "{m}");
        }
        for m in ["POST", "PUT", "PATCH", "DELETE", "delete", "PROPFIND", ""] {
            assert!(!origins().permits(m, none), "{m}");
            let same = Provenance {
                origin: Some(OWN),
                sec_fetch_site: None,
            };
            assert!(origins().permits(m, same), "{m}");
        }
    }

    #[test]
    fn trusted_origins_are_exact_origins() {
        assert_eq!(
            parse_origin("https://SPA.example.net").unwrap(),
            "https://spa.example.net"
        );
        assert_eq!(
            parse_origin("https://spa.example.net:443").unwrap(),
            "https://spa.example.net"
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:5173").unwrap(),
            "http://127.0.0.1:5173"
        );
        for bad in [
            "https://spa.example.net/",
            "https://spa.example.net/app",
            "https://spa.example.net?x=1",
            "https://user@spa.example.net",
            "http://spa.example.net",
            "*",
            "null",
            "spa.example.net",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
