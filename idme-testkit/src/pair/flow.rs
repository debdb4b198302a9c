//! A [`Pair`]'s browser going through a login in every response type and mode: the
//! emulator's answer (a redirect with a query or a fragment, or a form_post page), the
//! relay page's `POST`, logout and back-channel logout, all in memory.

use idme_core::{CallbackInput, LoginOptions, Reply};

use super::{Browser, Callback, Pair};
use crate::Persona;
use crate::browser::form_fields;

/// What the emulator answered a browser (status, `Location`, body).
#[derive(Debug, Clone)]
pub struct ProviderPage {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The body, as text.
    pub body: String,
}

/// One whole login attempt: what each step answered.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The engine's answer to the login route.
    pub login: Reply,
    /// The callback the provider sent the browser to make.
    pub callback: Callback,
    /// The engine's answer to the callback (after the relay page, in fragment mode).
    pub reply: Reply,
    /// The browser afterwards, holding every cookie the engine set.
    pub browser: Browser,
}

impl Pair {
    /// Starts a login with explicit options.
    pub async fn login_with(&self, options: &LoginOptions) -> Reply {
        self.idme.login_with(options).await
    }

    /// A browser's `GET` of a provider URL (the authorization or logout endpoint).
    ///
    /// # Panics
    /// When `url` is not a valid request URI.
    pub async fn provider_get(&self, url: &str) -> ProviderPage {
        let request = http::Request::get(url)
            .body(axum::body::Body::empty())
            .expect("a request");
        let response = self.emulator.handle(request).await;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        ProviderPage {
            status,
            location,
            body,
        }
    }

    /// Follows `login`'s redirect to the emulator (where the automatic user signs in) and
    /// returns the callback it sends the browser to make, in the response mode's shape.
    ///
    /// # Panics
    /// When `login` is no redirect, or the emulator answers neither a redirect to the
    /// application nor a form_post page.
    pub async fn answer(&self, login: &Reply) -> Callback {
        let location = login.header("location").expect("login redirects");
        let page = self.provider_get(location).await;
        match (page.status, page.location) {
            (303 | 302, Some(to)) => {
                let to = url::Url::parse(&to).expect("an absolute location");
                assert!(
                    to.as_str()
                        .starts_with(self.idme.config().redirect_uri().as_str()),
                    "the emulator redirects to the app: {to}"
                );
                match to.fragment() {
                    Some(f) => Callback::Fragment(f.to_owned()),
                    None => Callback::Query(to.query().unwrap_or_default().to_owned()),
                }
            }
            (200, _) if page.body.contains("method=\"post\"") => {
                let fields = form_fields(&page.body);
                Callback::FormPost(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(fields)
                        .finish(),
                )
            }
            (status, _) => panic!("the emulator answered {status}: {}", page.body),
        }
    }

    /// The browser makes `callback`: a `GET` with the query, the relay page then its
    /// `POST` of the fragment, or the form_post `POST`. The browser keeps the cookies.
    ///
    /// # Panics
    /// In fragment mode, when the engine does not answer the relay page.
    pub async fn deliver(&self, browser: &mut Browser, callback: &Callback) -> Reply {
        let reply = match callback {
            Callback::Query(q) => self.callback_get(browser, q).await,
            Callback::Fragment(f) => {
                let relay = self.callback_get(browser, "").await;
                assert_eq!(relay.status, 200, "the relay page: {}", relay.body);
                assert!(relay.body.contains("id=\"relay\""), "{}", relay.body);
                self.callback_post(browser, f).await
            }
            Callback::FormPost(body) => self.callback_post(browser, body).await,
        };
        browser.apply(&reply.set_cookies);
        reply
    }

    /// The browser that started `login` (holding only its cookies) makes `callback`.
    pub async fn finish(&self, login: &Reply, callback: &Callback) -> Reply {
        let mut browser = Browser::default();
        browser.apply(&login.set_cookies);
        self.deliver(&mut browser, callback).await
    }

    /// A `GET` of the callback with this query, from `browser` (cookies not kept).
    pub async fn callback_get(&self, browser: &Browser, query: &str) -> Reply {
        let input = CallbackInput::get((!query.is_empty()).then_some(query));
        self.idme.callback(input, &browser.cookies()).await
    }

    /// A form `POST` of the callback with this body, from `browser` (cookies not kept).
    pub async fn callback_post(&self, browser: &Browser, body: &str) -> Reply {
        let input = CallbackInput::post(Some("application/x-www-form-urlencoded"), body.as_bytes());
        self.idme.callback(input, &browser.cookies()).await
    }

    /// A login with `options` from a new browser, taken up to the callback the provider
    /// sends it to make: the browser (holding the pending cookie), the login and the
    /// callback.
    pub async fn until_callback(&self, options: &LoginOptions) -> (Browser, Reply, Callback) {
        let mut browser = Browser::default();
        let (login, callback) = self.until_callback_in(&mut browser, options).await;
        (browser, login, callback)
    }

    async fn until_callback_in(
        &self,
        browser: &mut Browser,
        options: &LoginOptions,
    ) -> (Reply, Callback) {
        let login = self.login_with(options).await;
        assert_eq!(login.status, 303, "login redirects: {}", login.body);
        browser.apply(&login.set_cookies);
        let callback = self.answer(&login).await;
        (login, callback)
    }

    /// A whole login with `options` in `browser` (which may already hold a session),
    /// whatever its outcome.
    pub async fn attempt_in(&self, mut browser: Browser, options: &LoginOptions) -> Attempt {
        let (login, callback) = self.until_callback_in(&mut browser, options).await;
        let reply = self.deliver(&mut browser, &callback).await;
        Attempt {
            login,
            callback,
            reply,
            browser,
        }
    }

    /// A whole login with `options` from a new browser, whatever its outcome.
    pub async fn attempt(&self, options: &LoginOptions) -> Attempt {
        self.attempt_in(Browser::default(), options).await
    }

    /// A whole sign-in with `options`; the browser holding the session.
    ///
    /// # Panics
    /// When the sign-in fails.
    pub async fn sign_in_with(&self, options: &LoginOptions) -> Browser {
        let attempt = self.attempt(options).await;
        assert_eq!(
            attempt.reply.status, 303,
            "signed in: {}",
            attempt.reply.body
        );
        attempt.browser
    }

    /// The origin of the application, as a browser sends it in `Origin`.
    pub fn origin(&self) -> String {
        self.idme
            .config()
            .redirect_uri()
            .origin()
            .ascii_serialization()
    }

    /// A same-origin `POST` of the logout route from `browser`, which keeps the cookies.
    pub async fn logout(&self, browser: &mut Browser) -> Reply {
        let origin = self.origin();
        let reply = self
            .idme
            .logout(&browser.cookies(), Some(&origin), Some("same-origin"))
            .await;
        browser.apply(&reply.set_cookies);
        reply
    }

    /// The emulator's back-channel logout of `persona` (a logout token with its `sub` and
    /// provider session id, and `extra` claims), delivered to the engine in memory.
    pub async fn backchannel_logout(&self, persona: Persona, extra: serde_json::Value) -> Reply {
        let token = self.emulator.logout_token(persona, extra);
        let body = format!("logout_token={token}");
        self.idme
            .backchannel_logout(Some("application/x-www-form-urlencoded"), body.as_bytes())
            .await
    }
}
