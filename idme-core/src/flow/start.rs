//! Step one: the authorization request. Fresh `state`, `nonce` and PKCE verifier, sealed
//! with the return path into the pending-login cookie.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use url::Url;

use super::pending::{self, PendingLogin};
use super::prompt::{self, Prompt};
use crate::config::IdmeConfig;
use crate::config::{ConfigError, ConflictRule, Environment};
use crate::cookies::{SameSite, SetCookie};
use crate::error::Error;
use crate::secret::{Nonce, PkceVerifier, State, random_token};
use crate::verification::Policy;

/// ID.me's multi-community chooser (production only).
const GROUPS_URL: &str = "https://groups.id.me/";

/// Which ID.me screen the login opens on (`op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Screen {
    /// `op=signin`: the sign-in screen (ID.me's default).
    SignIn,
    /// `op=signup`: the create-account screen.
    SignUp,
}

/// Options of one login.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoginOptions {
    /// Where to send the browser after sign-in: a local path, anything else becomes `/`.
    pub return_to: Option<String>,
    /// ID.me's `op`: open the sign-in or the sign-up screen.
    pub screen: Option<Screen>,
    /// ID.me's `eid`: an external id carried through the login.
    pub eid: Option<String>,
    /// ID.me's page language, as a path prefix of the authorize URL (`es`, `fr-CA`, …).
    pub locale: Option<String>,
    /// Extra policies for this login only (e.g. to verify a group), added to the scopes.
    pub policies: Vec<Policy>,
    /// Several communities at once through `groups.id.me` (production only).
    pub communities: Vec<Policy>,
    /// OIDC `prompt` for this login (instead of the configured one).
    pub prompt: Option<Prompt>,
    /// OIDC `max_age` in seconds for this login (instead of the configured one).
    pub max_age: Option<u64>,
    /// OIDC `acr_values` for this login (space-separated, instead of the configured ones):
    /// the ID token must then carry an `acr`, and one of these.
    pub acr_values: Option<String>,
}

impl LoginOptions {
    /// Default options: back to `/` after sign-in.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where to go after sign-in: kept only when it is a local path (no scheme, no `//`,
    /// no control characters), else `/`.
    pub fn return_to(mut self, path: impl Into<String>) -> Self {
        self.return_to = Some(path.into());
        self
    }

    /// Opens ID.me's sign-up screen instead of sign-in.
    pub fn screen(mut self, screen: Screen) -> Self {
        self.screen = Some(screen);
        self
    }

    /// Carries an external id through the login (`eid`).
    pub fn eid(mut self, eid: impl Into<String>) -> Self {
        self.eid = Some(eid.into());
        self
    }

    /// ID.me's page language (`es`, `fr-CA`, `zh`, …).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// Asks for `policy` in this login too.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policies.push(policy);
        self
    }

    /// Sends `prompt` (e.g. [`Prompt::login`] to make the person sign in again at ID.me).
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// Sends `max_age`: the sign-in at ID.me must be at most this old (whole seconds, at
    /// most a year); the ID token's `auth_time` is then required and checked.
    pub fn max_age(mut self, max_age: std::time::Duration) -> Self {
        self.max_age = Some(max_age.as_secs().min(prompt::MAX_MAX_AGE));
        self
    }

    /// Sends `acr_values` (authentication context classes, in order of preference, e.g.
    /// ID.me's `http://idmanagement.gov/ns/assurance/aal/2`): the ID token must then carry
    /// an `acr`, one of these, or the login fails. Malformed values (more than 8, quotes,
    /// control characters) are ignored.
    pub fn acr_values<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, values: I) -> Self {
        let joined: Vec<String> = values.into_iter().map(|v| v.as_ref().to_owned()).collect();
        self.acr_values = prompt::parse_acr_values(&joined.join(" "));
        self
    }

    /// Lets the person choose among several communities on `groups.id.me` (production).
    pub fn communities(mut self, communities: impl IntoIterator<Item = Policy>) -> Self {
        self.communities.extend(communities);
        self
    }

    /// Reads the options a browser may set on the login route's query string:
    /// `return_to`, `op` (`signin`/`signup`), `locale`, `policy` (known ID.me
    /// policies only, repeatable), `prompt` (as [`Prompt`]'s `FromStr` accepts), `max_age`
    /// (whole seconds, at most a year) and `acr_values` (see
    /// [`acr_values`](Self::acr_values)); an invalid value is ignored. `eid` and communities
    /// are for code to set.
    pub fn from_query(query: Option<&str>) -> Self {
        let mut o = Self::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "return_to" => o.return_to = Some(v.into_owned()),
                "op" if v == "signup" => o.screen = Some(Screen::SignUp),
                "op" if v == "signin" => o.screen = Some(Screen::SignIn),
                "locale" if is_locale(&v) => o.locale = Some(v.into_owned()),
                "policy" => o.policies.extend(Policy::known(&v)),
                "prompt" => o.prompt = v.parse().ok(),
                "max_age" => o.max_age = prompt::parse_max_age(&v),
                "acr_values" => o.acr_values = prompt::parse_acr_values(&v),
                _ => {}
            }
        }
        o
    }
}

/// `en`, `es`, `fr-CA`, `zh-Hant`: letters and one dash, nothing that could change a path.
fn is_locale(s: &str) -> bool {
    (2..=8).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
        && !s.starts_with('-')
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The authorization URL and the pending-login cookie of a new login.
pub(crate) struct Started {
    pub(crate) url: Url,
    pub(crate) cookie: SetCookie,
}

/// Builds the authorization request against `authorization_endpoint`, with the pending
/// login sealed into its cookie (the web engine).
pub(crate) fn start(
    config: &IdmeConfig,
    authorization_endpoint: &str,
    options: &LoginOptions,
    now: u64,
) -> Result<Started, Error> {
    let (url, pending) = authorization_request(config, authorization_endpoint, options, None, now)?;
    let mode = pending.response_mode;
    let secure = config.secure_cookies;
    let name = pending::cookie_name(pending.state.secret(), secure);
    let value = config.cookie_keys.seal(&name, &pending);
    // A form_post callback is a cross-site POST: only `SameSite=None` cookies come with
    // it, and browsers accept those only with `Secure`. Every other mode arrives by
    // top-level GET (or by the relay page's same-site POST), for which `Lax` suffices.
    // On plain-http loopback development `Secure` cannot be used (cookie jars refuse to
    // send it over http), so there the cookie stays `Lax`: that works when the provider
    // runs on the same loopback host, which is same-site whatever the port.
    let same_site = if mode == super::ResponseMode::FormPost && config.secure_cookies {
        SameSite::None
    } else {
        SameSite::Lax
    };
    let cookie = SetCookie {
        name,
        value,
        path: pending::cookie_path(secure, &config.paths.callback).to_owned(),
        max_age: config.login_timeout.as_secs() as i64,
        secure,
        same_site,
    };
    Ok(Started { url, cookie })
}

/// The authorization URL and the pending login of a new login, before anything is sealed:
/// the state, nonce and PKCE verifier are fresh. `redirect_uri` is this login's own (a
/// native app's loopback port varies, RFC 8252 §7.3); `None` is the configured one.
pub(crate) fn authorization_request(
    config: &IdmeConfig,
    authorization_endpoint: &str,
    options: &LoginOptions,
    redirect_uri: Option<&Url>,
    now: u64,
) -> Result<(Url, PendingLogin), Error> {
    let state = State::new(random_token(32));
    let nonce = Nonce::new(random_token(32));
    let verifier = config.pkce.then(|| PkceVerifier::new(random_token(32)));
    let rt = config.response_type;
    let mode = config.response_mode;

    let mut scopes = config.scopes.clone();
    for p in &options.policies {
        if !scopes.iter().any(|s| s == p.handle()) {
            scopes.push(p.handle().to_owned());
        }
    }
    let prompt = Prompt::for_scopes(
        options.prompt.clone().or_else(|| config.prompt.clone()),
        &scopes,
    );
    // A login without interaction cannot ask for new offline consent: leave it out rather
    // than send `offline_access` without the `consent` OIDC Core §11 requires.
    if prompt.as_ref().is_some_and(Prompt::is_none) {
        scopes.retain(|s| s != "offline_access");
    }
    let max_age = options.max_age.or(config.max_age);
    // Asked for by this login (a step-up guard): the `acr` is then required, not only
    // checked when present.
    let acr_required = options.acr_values.is_some();
    let acr_values = options
        .acr_values
        .clone()
        .or_else(|| config.acr_values.clone());
    let bad_endpoint = |e| Error::from(ConfigError::endpoint_url("authorization", e));
    let mut url = if options.communities.is_empty() {
        let mut url = Url::parse(authorization_endpoint).map_err(bad_endpoint)?;
        if let Some(locale) = options.locale.as_deref().filter(|l| is_locale(l)) {
            // ID.me localises by path prefix: /es/oauth/authorize.
            if url.path().ends_with("/oauth/authorize") {
                let path = format!("/{locale}{}", url.path());
                url.set_path(&path);
            }
        }
        url
    } else {
        if config.environment != Environment::Production {
            return Err(ConfigError::conflict(
                "communities",
                "IDME_ISSUER",
                ConflictRule::CommunitiesOutsideProduction,
            )
            .into());
        }
        Url::parse(GROUPS_URL).map_err(bad_endpoint)?
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_id", &config.client_id)
            .append_pair(
                "redirect_uri",
                redirect_uri.unwrap_or(&config.redirect_uri).as_str(),
            )
            .append_pair("response_type", rt.as_str());
        if options.communities.is_empty() {
            q.append_pair("scope", &scopes.join(" "));
        } else {
            let handles: Vec<&str> = options.communities.iter().map(Policy::handle).collect();
            q.append_pair("scopes", &handles.join(","));
        }
        q.append_pair("state", state.secret())
            .append_pair("nonce", nonce.secret());
        if let Some(acr) = &acr_values {
            q.append_pair("acr_values", acr);
        }
        if let Some(p) = &prompt {
            q.append_pair("prompt", &p.to_string());
        }
        if let Some(max_age) = max_age {
            q.append_pair("max_age", &max_age.to_string());
        }
        match options.screen {
            Some(Screen::SignUp) => {
                q.append_pair("op", "signup");
            }
            Some(Screen::SignIn) => {
                q.append_pair("op", "signin");
            }
            None => {}
        }
        if let Some(eid) = &options.eid {
            q.append_pair("eid", eid);
        }
        if mode != rt.default_mode() {
            q.append_pair("response_mode", mode.as_str());
        }
        if let Some(v) = &verifier {
            q.append_pair("code_challenge", &pkce_challenge(v.secret()))
                .append_pair("code_challenge_method", "S256");
        }
    }

    let pending = PendingLogin {
        state,
        nonce,
        pkce_verifier: verifier,
        return_to: super::return_to::sanitize_return_to(options.return_to.as_deref()),
        created_at: now,
        response_type: rt,
        response_mode: mode,
        max_age,
        acr_values,
        acr_required,
        redirect_uri: redirect_uri.map(|u| u.to_string()),
    };
    Ok((url, pending))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(env: crate::config::Environment) -> IdmeConfig {
        crate::config::IdmeBuilder::new()
            .environment(env)
            .client_id("cid")
            .client_secret("s")
            .redirect_uri("https://app.example/auth/callback")
            .cookie_keys(crate::cookies::CookieKeys::random())
            .build()
            .unwrap()
    }

    #[test]
    fn multi_community_login_goes_through_groups_in_production_only() {
        let opts = LoginOptions::new().communities([Policy::Military, Policy::Student]);
        let started = start(
            &config(Environment::Production),
            "https://api.id.me/oauth/authorize",
            &opts,
            0,
        )
        .ok()
        .unwrap();
        assert_eq!(started.url.host_str(), Some("groups.id.me"));
        let q: std::collections::HashMap<_, _> = started.url.query_pairs().into_owned().collect();
        assert_eq!(q["scopes"], "military,student");
        assert!(q.contains_key("state") && q.contains_key("code_challenge"));
        let e = start(
            &config(Environment::Sandbox),
            "https://api.idmelabs.com/oauth/authorize",
            &opts,
            0,
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("only in ID.me production"), "{e}");
    }

    #[test]
    fn form_post_pending_cookie_is_samesite_none_over_https() {
        let mut c = config(Environment::Production);
        c.response_mode = crate::flow::ResponseMode::FormPost;
        let started = start(
            &c,
            "https://api.id.me/oauth/authorize",
            &LoginOptions::new(),
            0,
        )
        .ok()
        .unwrap();
        let h = started.cookie.header_value();
        assert!(
            h.contains("SameSite=None") && h.contains("Secure") && h.contains("HttpOnly"),
            "{h}"
        );
        c.response_mode = crate::flow::ResponseMode::Query;
        let started = start(
            &c,
            "https://api.id.me/oauth/authorize",
            &LoginOptions::new(),
            0,
        )
        .ok()
        .unwrap();
        assert!(started.cookie.header_value().contains("SameSite=Lax"));
    }

    fn query_of(c: &IdmeConfig, opts: &LoginOptions) -> std::collections::HashMap<String, String> {
        let started = start(c, "https://api.id.me/oauth/authorize", opts, 0)
            .ok()
            .unwrap();
        started.url.query_pairs().into_owned().collect()
    }

    #[test]
    fn offline_access_sends_prompt_consent() {
        let mut c = config(Environment::Production);
        let q = query_of(&c, &LoginOptions::new());
        assert!(
            !q.contains_key("prompt") && !q.contains_key("max_age"),
            "{q:?}"
        );
        c.scopes.push("offline_access".into());
        assert_eq!(query_of(&c, &LoginOptions::new())["prompt"], "consent");
        let q = query_of(&c, &LoginOptions::new().prompt(Prompt::login()));
        assert_eq!(q["prompt"], "login consent");
    }

    #[test]
    fn prompt_and_max_age_per_login_win_over_configuration() {
        let mut c = config(Environment::Production);
        c.prompt = Some(Prompt::select_account());
        c.max_age = Some(900);
        let q = query_of(&c, &LoginOptions::new());
        assert_eq!(
            (q["prompt"].as_str(), q["max_age"].as_str()),
            ("select_account", "900")
        );
        let o = LoginOptions::from_query(Some("prompt=none&max_age=0"));
        let q = query_of(&c, &o);
        assert_eq!((q["prompt"].as_str(), q["max_age"].as_str()), ("none", "0"));
    }

    #[test]
    fn invalid_prompt_and_max_age_from_the_query_are_dropped() {
        for bad in [
            "prompt=none%20login",
            "prompt=popup",
            "max_age=-5",
            "max_age=1e9",
        ] {
            let o = LoginOptions::from_query(Some(bad));
            assert!(o.prompt.is_none() && o.max_age.is_none(), "{bad}");
        }
        let o = LoginOptions::from_query(Some("prompt=login+consent&max_age=60"));
        assert_eq!(o.prompt.unwrap().to_string(), "login consent");
        assert_eq!(o.max_age, Some(60));
    }

    #[test]
    fn browser_options_are_limited() {
        let o = LoginOptions::from_query(Some(
            "return_to=/x&op=signup&locale=es&policy=military&policy=evil&eid=1&locale=../x",
        ));
        assert_eq!(o.return_to.as_deref(), Some("/x"));
        assert_eq!(o.screen, Some(Screen::SignUp));
        assert_eq!(o.locale.as_deref(), Some("es"));
        assert_eq!(o.policies, vec![Policy::Military]);
        assert!(o.eid.is_none(), "eid is for code to set");
    }

    #[test]
    fn pkce_challenge_is_base64url_sha256() {
        // Computed independently: base64url(sha256(verifier)) without padding (Python hashlib).
        assert_eq!(
            pkce_challenge("dBjftJeZ4CK-Vw1EaBOLxWG5PBxuKDgMbFAgKkSgU5E"),
            "c01upyI4ghiNOQ-5k-s-DHq4svy0WDUysZWMfqp-850"
        );
    }
}
