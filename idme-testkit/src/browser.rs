//! A scripted browser for tests: a cookie jar with path scoping and `Max-Age` deletion,
//! no automatic redirects (each hop is visible), and the two things a real browser does
//! with an authorization response that a plain HTTP client does not: submitting a
//! `form_post` page and relaying a URL fragment to the server, as the relay page's script
//! would.

use std::sync::Mutex;

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use url::Url;

/// One stored cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// `Path` attribute (default `/`).
    pub path: String,
}

/// A response as the test sees it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL requested.
    pub url: Url,
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Page {
    /// The `Location` header resolved against the request URL.
    pub fn location(&self) -> Option<Url> {
        let loc = self.headers.get(LOCATION)?.to_str().ok()?;
        self.url.join(loc).ok()
    }

    /// Every `Set-Cookie` header, raw.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The raw `Set-Cookie` header for cookie `name` (or starting with `name` if it ends in `*`).
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| match name.strip_suffix('*') {
                Some(prefix) => c.starts_with(prefix),
                None => c.starts_with(&format!("{name}=")),
            })
    }

    /// Whether this is a redirect.
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status)
    }

    /// The body parsed as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A test browser. Cookies are kept per path only (tests run on one loopback host).
///
/// Drives a sign-in end to end: start it at the app, let [`navigate`](Self::navigate)
/// follow the redirects, the emulator's `form_post` page or the fragment relay back to the
/// app, and look at the cookies.
///
/// ```no_run
/// # async fn demo() {
/// use idme_testkit::browser::Browser;
/// // An app on 127.0.0.1:3000 signing in against an emulator with `auto_user` set.
/// let browser = Browser::new();
/// let start = browser.get("http://127.0.0.1:3000/auth/login?return_to=/me").await;
/// let page = browser.navigate(start, Some("http://127.0.0.1:3000/me")).await;
/// assert_eq!(page.url.path(), "/me");
/// assert!(browser.cookie("idme_session").is_some());
/// // The same request as an API client: `401` JSON instead of a redirect.
/// let api = Browser::api_client().get("http://127.0.0.1:3000/me").await;
/// assert_eq!(api.status, 401);
/// # }
/// ```
#[derive(Debug)]
pub struct Browser {
    client: reqwest::Client,
    jar: Mutex<Vec<StoredCookie>>,
    accept: String,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

/// Extracts `<input … name="…" value="…">` pairs from a form page (the emulator's and
/// any provider's `form_post` page).
pub fn form_fields(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!("{name}=\"");
        let start = tag.find(&key)? + key.len();
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    html.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
        })
        .collect()
}

/// The `action` of the first form on a page.
pub fn form_action(html: &str) -> Option<String> {
    let form = &html[html.find("<form")?..];
    let tag = &form[..form.find('>')?];
    let start = tag.find("action=\"")? + 8;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Browser {
    /// A browser that asks for HTML (`Accept: text/html`).
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("a plain reqwest client builds");
        Self {
            client,
            jar: Mutex::new(Vec::new()),
            accept: "text/html,application/xhtml+xml".into(),
        }
    }

    /// A client that asks for JSON (an API client rather than a browser).
    pub fn api_client() -> Self {
        Self {
            accept: "application/json".into(),
            ..Self::new()
        }
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, Vec<StoredCookie>> {
        self.jar.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stored value of cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar()
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.clone())
    }

    /// Every stored cookie.
    pub fn cookies(&self) -> Vec<StoredCookie> {
        self.jar().clone()
    }

    /// Stores (or replaces) a cookie by hand.
    pub fn put_cookie(&self, name: &str, value: &str, path: &str) {
        let mut jar = self.jar();
        jar.retain(|c| !(c.name == name && c.path == path));
        jar.push(StoredCookie {
            name: name.into(),
            value: value.into(),
            path: path.into(),
        });
    }

    /// Removes every cookie whose name starts with `prefix`.
    pub fn remove_cookies(&self, prefix: &str) {
        self.jar().retain(|c| !c.name.starts_with(prefix));
    }

    fn cookie_header(&self, url: &Url) -> Option<String> {
        let path = url.path();
        let pairs: Vec<String> = self
            .jar()
            .iter()
            .filter(|c| {
                path == c.path
                    || (path.starts_with(&c.path)
                        && (c.path.ends_with('/') || path[c.path.len()..].starts_with('/')))
            })
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    fn store(&self, headers: &HeaderMap) {
        for raw in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let mut parts = raw.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
                continue;
            };
            let mut path = "/".to_owned();
            let mut delete = false;
            for attr in parts {
                let (k, v) = attr.trim().split_once('=').unwrap_or((attr.trim(), ""));
                if k.eq_ignore_ascii_case("path") {
                    path = v.to_owned();
                } else if k.eq_ignore_ascii_case("max-age") {
                    delete = v.trim().parse::<i64>().is_ok_and(|s| s <= 0);
                }
            }
            let mut jar = self.jar();
            jar.retain(|c| !(c.name == name && c.path == path));
            if !delete {
                jar.push(StoredCookie {
                    name: name.to_owned(),
                    value: value.to_owned(),
                    path,
                });
            }
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder, url: Url) -> Page {
        let mut req = req.header(reqwest::header::ACCEPT, &self.accept);
        if let Some(cookies) = self.cookie_header(&url) {
            req = req.header(reqwest::header::COOKIE, cookies);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request to {url} failed: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        self.store(&headers);
        let body = resp.text().await.unwrap_or_default();
        Page {
            url,
            status,
            headers,
            body,
        }
    }

    /// One `GET` (a fragment in `url` is not sent, as in a browser).
    pub async fn get(&self, url: &str) -> Page {
        let mut url = Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
        url.set_fragment(None);
        self.send(self.client.get(url.clone()), url).await
    }

    /// One `POST` of a form from a page of the target's own origin, with the `Origin`
    /// and `Sec-Fetch-Site` headers a browser sends.
    pub async fn post_form(&self, url: &str, fields: &[(String, String)]) -> Page {
        self.post_form_with(url, fields, &[]).await
    }

    /// One `POST` of a form from a page of the target's own origin, with extra headers:
    /// one named like a browser header (`Origin`, `Sec-Fetch-Site`) replaces it.
    pub async fn post_form_with(
        &self,
        url: &str,
        fields: &[(String, String)],
        headers: &[(&str, &str)],
    ) -> Page {
        let target = Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
        self.post_form_from(&target, url, fields, headers).await
    }

    /// One `POST` of a form as a client that is not a browser: no `Origin`, no
    /// `Sec-Fetch-Site`, only `headers`.
    pub async fn post_form_bare(
        &self,
        url: &str,
        fields: &[(String, String)],
        headers: &[(&str, &str)],
    ) -> Page {
        self.post_form_raw(url, fields, headers).await
    }

    /// One `POST` of a form submitted from a page at `from`, with the `Origin` and
    /// `Sec-Fetch-Site` a browser computes for it; `headers` replace those of the same name.
    pub async fn post_form_from(
        &self,
        from: &Url,
        url: &str,
        fields: &[(String, String)],
        headers: &[(&str, &str)],
    ) -> Page {
        let target = Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
        let origin = from.origin().ascii_serialization();
        let site = if from.origin() == target.origin() {
            "same-origin"
        } else if from.scheme() == target.scheme() && from.host_str() == target.host_str() {
            "same-site"
        } else {
            "cross-site"
        };
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        for (name, value) in [("origin", origin.as_str()), ("sec-fetch-site", site)] {
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                all.push((name, value));
            }
        }
        self.post_form_raw(url, fields, &all).await
    }

    async fn post_form_raw(
        &self,
        url: &str,
        fields: &[(String, String)],
        headers: &[(&str, &str)],
    ) -> Page {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = self
            .client
            .post(url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req, url).await
    }

    /// What a browser does with a page: follows redirects (`GET`), submits `form_post`
    /// pages, and relays a fragment like the relay page's script, until a page that is
    /// none of these or one whose URL starts with `stop_at` (if given). At most 12 hops.
    pub async fn navigate(&self, start: Page, stop_at: Option<&str>) -> Page {
        let mut page = start;
        let mut fragment: Option<String> = None;
        for _ in 0..12 {
            if stop_at.is_some_and(|s| page.url.as_str().starts_with(s)) {
                return page;
            }
            if page.is_redirect() {
                let Some(next) = page.location() else {
                    return page;
                };
                fragment = next.fragment().map(str::to_owned);
                page = self.get(next.as_str()).await;
                continue;
            }
            if page.status == 200 && page.body.contains("id=\"relay\"") {
                // The relay page's script: POST the fragment's parameters to the callback.
                let fields: Vec<(String, String)> = fragment
                    .take()
                    .map(|f| {
                        url::form_urlencoded::parse(f.as_bytes())
                            .into_owned()
                            .collect()
                    })
                    .unwrap_or_default();
                let action = form_action(&page.body).unwrap_or_default();
                let target = page.url.join(&action).unwrap_or(page.url.clone());
                page = self
                    .post_form_from(&page.url, target.as_str(), &fields, &[])
                    .await;
                continue;
            }
            if page.status == 200
                && page.body.contains("<form")
                && page.body.contains("method=\"post\"")
                && page.body.contains("document.forms[0].submit()")
            {
                // An auto-submitting form_post page.
                let fields = form_fields(&page.body);
                let action = form_action(&page.body).unwrap_or_default();
                let target = page.url.join(&action).unwrap_or(page.url.clone());
                page = self
                    .post_form_from(&page.url, target.as_str(), &fields, &[])
                    .await;
                continue;
            }
            return page;
        }
        page
    }
}
