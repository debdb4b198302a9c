//! The one response type the engine hands to adapters: status, headers, cookies, body.
//! Each adapter converts it to its framework's response in one function, so no framework's
//! types leak into the others.

use serde_json::{Value, json};

use crate::cookies::SetCookie;
use crate::error::Error;

/// A response for the adapter to send as it is.
///
/// Its `Debug` shows the status, the headers (a `Location`'s query and fragment, which
/// carry `state`, `nonce` and the like, redacted), the cookies without their values, and
/// the body's length.
#[derive(Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// Headers other than `Set-Cookie` (`Location`, `Content-Type`, `Cache-Control`, …).
    pub headers: Vec<(&'static str, String)>,
    /// Cookies to set or clear, each its own `Set-Cookie` header.
    pub set_cookies: Vec<SetCookie>,
    /// The body (HTML, JSON or empty).
    pub body: String,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A redirect to the provider carries `state` and `nonce` in its query; to the app
        // it may carry anything: only the part before `?` or `#` is printed.
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| match *name {
                "location" => (*name, value.split(['?', '#']).next().unwrap_or_default()),
                _ => (*name, value.as_str()),
            })
            .collect();
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &headers)
            .field("set_cookies", &self.set_cookies)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Security headers on every page the engine renders.
fn page_headers(content_type: &'static str, csp: String) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", content_type.into()),
        ("cache-control", "no-store".into()),
        ("content-security-policy", csp),
        ("referrer-policy", "no-referrer".into()),
        ("x-content-type-options", "nosniff".into()),
        ("x-frame-options", "DENY".into()),
    ]
}

/// The CSP of pages without script.
pub(crate) const STATIC_PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

impl Reply {
    /// An answer with `status`, no body and no headers.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            set_cookies: Vec::new(),
            body: String::new(),
        }
    }

    /// A `303 See Other` to `location`.
    pub fn redirect(location: impl Into<String>) -> Self {
        Self {
            status: 303,
            headers: vec![
                ("location", location.into()),
                ("cache-control", "no-store".into()),
            ],
            set_cookies: Vec::new(),
            body: String::new(),
        }
    }

    /// An HTML page under a strict CSP without script.
    pub fn html(status: u16, body: String) -> Self {
        Self::html_with_csp(status, body, STATIC_PAGE_CSP.into())
    }

    /// An HTML page under the content security policy `csp` (for a page that needs more
    /// than [`html`](Self::html)'s, e.g. a form posting to another origin).
    pub fn html_with_csp(status: u16, body: String, csp: String) -> Self {
        Self {
            status,
            headers: page_headers("text/html; charset=utf-8", csp),
            set_cookies: Vec::new(),
            body,
        }
    }

    /// A JSON body.
    pub fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".into()),
                ("cache-control", "no-store".into()),
            ],
            set_cookies: Vec::new(),
            body: value.to_string(),
        }
    }

    /// Adds a cookie to set or clear.
    pub fn with_cookie(mut self, cookie: SetCookie) -> Self {
        self.set_cookies.push(cookie);
        self
    }

    /// Adds cookies to set or clear.
    pub fn with_cookies(mut self, cookies: impl IntoIterator<Item = SetCookie>) -> Self {
        self.set_cookies.extend(cookies);
        self
    }

    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every header as `(name, value)` pairs, `Set-Cookie` included: what an adapter writes.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&str, String)> + '_ {
        self.headers.iter().map(|(k, v)| (*k, v.clone())).chain(
            self.set_cookies
                .iter()
                .map(|c| ("set-cookie", c.header_value())),
        )
    }

    /// Converts into an `http::Response` (for hyper/tower-based frameworks).
    pub fn into_http(self) -> http::Response<String> {
        let mut builder = http::Response::builder().status(self.status);
        for (name, value) in self.header_pairs() {
            builder = builder.header(name, value);
        }
        builder.body(self.body).unwrap_or_else(|_| {
            // Only reachable with a header value holding a control character, which the
            // engine never produces; answer a bare 500 rather than panic.
            let mut r = http::Response::new(String::new());
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }
}

/// Content negotiation: a client whose `Accept` names `text/html` (a browser) gets pages
/// and redirects; any other gets JSON.
pub(crate) fn wants_html(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("text/html"))
}

/// The answer to a request that needs a user but has none, negotiated on `accept`. When
/// nobody is signed in (or the session is over), browsers are sent to `login_path` with
/// `return_to` set to `path_and_query`, and API clients get `401` JSON; any other failure
/// (the session store down) is `page()` for browsers and JSON for API clients.
pub(crate) fn unauthenticated(
    error: &Error,
    accept: Option<&str>,
    path_and_query: &str,
    login_path: &str,
    page: impl FnOnce() -> Reply,
) -> Reply {
    let wants_html = wants_html(accept);
    match error {
        Error::Unauthenticated(_) if wants_html => {
            let mut url = String::from(login_path);
            url.push_str("?return_to=");
            url.extend(url::form_urlencoded::byte_serialize(
                crate::flow::sanitize_return_to(Some(path_and_query)).as_bytes(),
            ));
            Reply::redirect(url)
        }
        _ if wants_html => page(),
        _ => {
            if error.status().is_server_error() {
                tracing::error!(target: "idme::session", error = %error, "no session");
            }
            Reply::json(
                error.status().as_u16(),
                &json!({ "error": error.code(), "message": error.public_message() }),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookies::SameSite;

    const SEALED: &str = "c2VhbGVkLXNlc3Npb24tdmFsdWUtdGhhdC1tdXN0LW5vdC1sZWFr";

    fn cookie() -> SetCookie {
        SetCookie {
            name: "idme_session".into(),
            value: SEALED.into(),
            path: "/".into(),
            max_age: 600,
            secure: true,
            same_site: SameSite::Lax,
        }
    }

    #[test]
    fn debug_never_prints_a_cookie_value() {
        let c = cookie();
        for shown in [format!("{c:?}"), format!("{c:#?}")] {
            assert!(!shown.contains(SEALED), "{shown}");
            assert!(shown.contains("idme_session"), "the name stays: {shown}");
            assert!(
                shown.contains(&SEALED.len().to_string()),
                "the length: {shown}"
            );
        }
        let reply = Reply::redirect("/").with_cookie(c);
        for shown in [format!("{reply:?}"), format!("{reply:#?}")] {
            assert!(!shown.contains(SEALED), "{shown}");
            assert!(shown.contains("idme_session"), "{shown}");
        }
        // The header an adapter writes still carries the value.
        assert!(reply.header_pairs().any(|(_, v)| v.contains(SEALED)));
    }

    #[test]
    fn debug_never_prints_a_location_query_or_the_body() {
        let reply = Reply::redirect("https://idp.example/authorize?state=S3CRET&nonce=N0NCE#frag");
        let shown = format!("{reply:?}");
        assert!(shown.contains("https://idp.example/authorize"), "{shown}");
        for secret in ["S3CRET", "N0NCE", "frag"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let page = Reply::html(400, "<p>body-text</p>".into());
        assert!(!format!("{page:?}").contains("body-text"));
    }
}
