//! The engine driven directly (no web framework) against the emulator over loopback: the
//! app's redirect URI may be https, since the test hands the callback to the engine itself.
#![allow(dead_code, unreachable_pub)]

use idme_core::{
    CallbackInput, Environment, Idme, IdmeBuilder, LoginOptions, Reply, RequestCookies,
};
use idme_testkit::browser::{Browser, form_fields};
use idme_testkit::{Emulator, EmulatorConfig, Persona};

/// The redirect URI of the https app (never contacted: the test calls the engine).
pub const HTTPS_REDIRECT: &str = "https://app.example/auth/callback";

/// An engine and the emulator it signs in against.
pub struct EngineRig {
    pub emulator: Emulator,
    pub idme: Idme,
}

impl EngineRig {
    /// An emulator signing in `persona` automatically and an engine built by `configure`.
    pub async fn new(
        redirect: &str,
        persona: Option<Persona>,
        configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
    ) -> EngineRig {
        let emulator = Emulator::start(EmulatorConfig {
            redirect_uris: vec![redirect.to_owned()],
            auto_user: persona,
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        let builder = IdmeBuilder::new()
            .environment(Environment::Custom(emulator.issuer()))
            .client_id(emulator.client_id())
            .client_secret(emulator.client_secret())
            .redirect_uri(redirect);
        let idme = Idme::new(configure(builder).build().unwrap());
        EngineRig { emulator, idme }
    }

    /// Starts a login: the engine's reply (a redirect to the provider, pending cookie set).
    pub async fn login(&self, options: &LoginOptions) -> Reply {
        let reply = self.idme.login_with(options).await;
        assert_eq!(reply.status, 303, "login redirects: {}", reply.body);
        reply
    }

    /// Sends the browser to the provider and returns the callback request it makes.
    pub async fn provider_answer(&self, login: &Reply) -> Callback {
        let browser = Browser::new();
        let page = browser.get(login.header("location").unwrap()).await;
        if page.status == 303 {
            let to = page.location().unwrap();
            let query = to.query().map(str::to_owned);
            let fragment = to.fragment().map(str::to_owned);
            match (query, fragment) {
                (_, Some(f)) => Callback::Post(f),
                (q, None) => Callback::Get(q.unwrap_or_default()),
            }
        } else {
            assert_eq!(page.status, 200, "{}", page.body);
            let fields = form_fields(&page.body);
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            Callback::Post(body)
        }
    }

    /// Hands the callback to the engine with the cookies `login` set.
    pub async fn callback(&self, login: &Reply, callback: &Callback) -> Reply {
        let cookie_header = cookie_header(login);
        let cookies = RequestCookies::from_header_values([cookie_header.as_str()]);
        let input = match callback {
            Callback::Get(q) => CallbackInput::get(Some(q)),
            Callback::Post(body) => {
                CallbackInput::post(Some("application/x-www-form-urlencoded"), body.as_bytes())
            }
        };
        self.idme.callback(input, &cookies).await
    }

    /// A whole sign-in with `options`: the callback's reply.
    pub async fn sign_in(&self, options: &LoginOptions) -> Reply {
        let login = self.login(options).await;
        let answer = self.provider_answer(&login).await;
        self.callback(&login, &answer).await
    }
}

/// The callback request the provider sent the browser to make.
#[derive(Debug, Clone)]
pub enum Callback {
    /// `GET` with this query.
    Get(String),
    /// `POST` with this form body (form_post, or the fragment as the relay page posts it).
    Post(String),
}

impl Callback {
    /// The value of one parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        let raw = match self {
            Callback::Get(s) | Callback::Post(s) => s,
        };
        url::form_urlencoded::parse(raw.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// The `Cookie` header a browser sends back after `reply`.
pub fn cookie_header(reply: &Reply) -> String {
    reply
        .set_cookies
        .iter()
        .filter(|c| c.max_age > 0)
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether `reply` signed someone in (a redirect that sets a session cookie).
pub fn signed_in(reply: &Reply, session_cookie: &str) -> bool {
    reply.status == 303
        && reply
            .set_cookies
            .iter()
            .any(|c| c.name.starts_with(session_cookie) && c.max_age > 0)
}
