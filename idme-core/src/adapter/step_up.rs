//! Step-up sign-in: a route that needs a recent sign-in ([`RequestAuth::fresh`], an
//! adapter's `Fresh<N>`) or a sign-in at a given assurance ([`RequestAuth::assured`], an
//! adapter's `Assured<A>`: the ID token's `acr` one of
//! [`Assurance::ACR_VALUES`](crate::require::Assurance::ACR_VALUES)).
//!
//! A user whose sign-in ([`IdmeUser::auth_time`]) is older than the route allows is
//! refused with [`RejectionReason::StaleSignIn`] (`401`), answered by default:
//!
//! - a browser's navigation: `303` to the login route asking ID.me for a sign-in at most
//!   that old (`max_age`, `prompt=login`), coming back to the request; the new session
//!   replaces the old one at the callback, and a provider that still answers an older
//!   `auth_time` fails the ID token's check (an error page, not a loop);
//! - an API client with the session cookie: `401` JSON
//!   `{"error": "insufficient_user_authentication", "max_age": N, "login_url": …}`;
//! - a bearer client (a token an extension recognizes): the same `401` JSON with RFC 9470
//!   §3's challenge, `WWW-Authenticate: Bearer error="insufficient_user_authentication",
//!   error_description="…", max_age="N"`.
//!
//! An assurance falls short the same way, with [`RejectionReason::InsufficientAssurance`]:
//! the login asks for `acr_values` (and `prompt=login`), the ID token must then carry an
//! `acr` among them (else the login fails and the old session stays), and the JSON and the
//! challenge name `acr_values` instead of `max_age`.

use serde_json::json;

use super::{GuardRequest, Rejection, RejectionReason, RequestAuth, missing_setup};
use crate::cookies::RequestCookies;
use crate::reply::{Reply, wants_html};
use crate::user::IdmeUser;

/// The error code of RFC 9470 §3, for bearer and cookie clients alike.
const ERROR: &str = "insufficient_user_authentication";
/// The explanation shown to API clients.
const DESCRIPTION: &str = "A more recent sign-in is required";
/// The explanation shown to API clients for an assurance.
const ASSURANCE_DESCRIPTION: &str = "A sign-in at a higher assurance is required";

/// What a step-up asks the provider for.
#[derive(Debug, Clone, Copy)]
enum Ask<'a> {
    /// A sign-in at most this many seconds old.
    MaxAge(u64),
    /// A sign-in at one of these `acr` values (space-separated).
    Acr(&'a str),
}

impl Ask<'_> {
    /// The login route's query parameter, the JSON member and the challenge parameter.
    fn param(&self) -> (&'static str, String) {
        match self {
            Ask::MaxAge(max_age) => ("max_age", max_age.to_string()),
            Ask::Acr(values) => ("acr_values", (*values).to_owned()),
        }
    }

    fn description(&self) -> &'static str {
        match self {
            Ask::MaxAge(_) => DESCRIPTION,
            Ask::Acr(_) => ASSURANCE_DESCRIPTION,
        }
    }
}

/// Whether a sign-in at `auth_time` is at most `max_age` seconds old at `now`, allowing
/// the clock `skew` the ID token's `max_age` check allows: a login asked with `max_age`
/// that the ID token check accepted is always recent enough here, so it never loops.
pub(crate) fn is_recent(auth_time: u64, max_age: u64, skew: u64, now: u64) -> bool {
    auth_time.saturating_add(max_age).saturating_add(skew) >= now
}

/// The login route asking for a sign-in at most `max_age` seconds old (`prompt=login`
/// makes ID.me ask the person again), coming back to `path_and_query` (kept only when it
/// is a local path).
pub(crate) fn login_url(login_path: &str, path_and_query: &str, max_age: u64) -> String {
    step_up_url(login_path, path_and_query, Ask::MaxAge(max_age))
}

/// The login route asking for `ask`, with `prompt=login`, coming back to `path_and_query`.
fn step_up_url(login_path: &str, path_and_query: &str, ask: Ask<'_>) -> String {
    let return_to = crate::flow::sanitize_return_to(Some(path_and_query));
    let (name, value) = ask.param();
    let mut url = String::from(login_path);
    url.push_str("?return_to=");
    url.extend(url::form_urlencoded::byte_serialize(return_to.as_bytes()));
    url.push_str(&format!("&{name}="));
    url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
    url.push_str("&prompt=login");
    url
}

/// The default answer to a step-up (see the module's documentation).
fn answer(html: bool, bearer: bool, ask: Ask<'_>, login_url: &str) -> Reply {
    if html && !bearer {
        return Reply::redirect(login_url);
    }
    let description = ask.description();
    let (name, value) = ask.param();
    let mut body = json!({
        "error": ERROR,
        "error_description": description,
        "message": description,
        "login_url": login_url,
    });
    body[name] = match ask {
        Ask::MaxAge(max_age) => json!(max_age),
        Ask::Acr(values) => json!(values),
    };
    let mut reply = Reply::json(401, &body);
    if bearer {
        // The values are digits, or `acr` values checked to hold no quote or backslash.
        reply.headers.push((
            "www-authenticate",
            format!(
                "Bearer error=\"{ERROR}\", error_description=\"{description}\", {name}=\"{value}\""
            ),
        ));
    }
    reply
}

impl RequestAuth {
    /// The signed-in user if they signed in at most `max_age` seconds ago
    /// ([`IdmeUser::auth_time`], by the engine's clock, with the configured clock skew); a
    /// user who did not is refused with [`RejectionReason::StaleSignIn`] (`401`). Without a
    /// user it fails like [`user`](Self::user).
    ///
    /// The default answers: a browser's navigation gets a `303` to the login route with
    /// `max_age` and `prompt=login`, coming back to the request (the new session replaces
    /// the old one at the callback; a provider that still answers an older `auth_time`
    /// fails the ID token's `max_age` check: an error page, not a loop); an API client gets
    /// `401` JSON `{"error": "insufficient_user_authentication", "max_age": N,
    /// "login_url": …}`; a bearer client the same JSON with RFC 9470 §3's challenge,
    /// `WWW-Authenticate: Bearer error="insufficient_user_authentication",
    /// error_description="…", max_age="N"` (a token keeps the sign-in time of the web
    /// session that approved its grant: the person approves the app again).
    pub async fn fresh(
        &self,
        req: &GuardRequest<'_>,
        cookies: impl FnOnce() -> RequestCookies,
        max_age: u64,
    ) -> Result<IdmeUser, Rejection> {
        let user = self.user(req, cookies).await?;
        let Some(idme) = req.idme else {
            return Err(self.reject(missing_setup("Idme engine", req.setup)));
        };
        let config = idme.config();
        let (now, skew) = (config.clock().now(), config.clock_skew().as_secs());
        let auth_time = user.auth_time();
        if is_recent(auth_time, max_age, skew, now) {
            return Ok(user);
        }
        tracing::debug!(
            target: "idme::rejection",
            sub = user.sub(),
            age = now.saturating_sub(auth_time),
            max_age,
            "a more recent sign-in is required"
        );
        let login_url = login_url(&config.paths().login, req.path_and_query, max_age);
        let bearer = req.bearer().is_some();
        let reply = answer(
            wants_html(req.accept()),
            bearer,
            Ask::MaxAge(max_age),
            &login_url,
        );
        let reason = RejectionReason::StaleSignIn { max_age, login_url };
        Err(self.reject(Rejection::new(reason, reply)))
    }

    /// The signed-in user if they signed in at one of `acr_values` ([`IdmeUser::acr`]); a
    /// user who did not is refused with [`RejectionReason::InsufficientAssurance`] (`401`).
    /// Without a user it fails like [`user`](Self::user).
    ///
    /// The default answers are [`fresh`](Self::fresh)'s, asking for `acr_values`: a
    /// browser's navigation gets a `303` to the login route with `acr_values` and
    /// `prompt=login`, coming back to the request (the ID token must then carry one of
    /// them, else the login fails and the old session stays: an error page, not a loop);
    /// an API client gets `401` JSON with `"acr_values"`; a bearer client the same with
    /// RFC 9470 §3's challenge, `acr_values="…"` (a token keeps the `acr` of the web
    /// session that approved its grant).
    pub async fn assured(
        &self,
        req: &GuardRequest<'_>,
        cookies: impl FnOnce() -> RequestCookies,
        acr_values: &[&str],
    ) -> Result<IdmeUser, Rejection> {
        let user = self.user(req, cookies).await?;
        if user.acr().is_some_and(|acr| acr_values.contains(&acr)) {
            return Ok(user);
        }
        let Some(idme) = req.idme else {
            return Err(self.reject(missing_setup("Idme engine", req.setup)));
        };
        let Some(values) = crate::config::parse_acr_values(&acr_values.join(" ")) else {
            let what = "valid Assurance::ACR_VALUES (1 to 8 values without spaces or quotes)";
            return Err(self.reject(missing_setup(what, req.setup)));
        };
        tracing::debug!(
            target: "idme::rejection",
            sub = user.sub(),
            acr = user.acr(),
            acr_values = %values,
            "a sign-in at a higher assurance is required"
        );
        let login_path = &idme.config().paths().login;
        let login_url = step_up_url(login_path, req.path_and_query, Ask::Acr(&values));
        let bearer = req.bearer().is_some();
        let reply = answer(
            wants_html(req.accept()),
            bearer,
            Ask::Acr(&values),
            &login_url,
        );
        let reason = RejectionReason::InsufficientAssurance {
            acr_values: values,
            login_url,
        };
        Err(self.reject(Rejection::new(reason, reply)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_allows_the_skew_the_id_token_check_allows() {
        let now = 1_700_000_000;
        assert!(is_recent(now - 300, 300, 0, now));
        assert!(!is_recent(now - 301, 300, 0, now));
        assert!(is_recent(now - 360, 300, 60, now));
        assert!(!is_recent(now - 361, 300, 60, now));
        assert!(
            is_recent(now + 5, 0, 0, now),
            "a sign-in from the future is recent"
        );
    }

    #[test]
    fn the_login_url_asks_for_max_age_and_a_new_sign_in_and_comes_back() {
        let url = login_url("/auth/login", "/verified/recent?tab=1", 300);
        assert_eq!(
            url,
            "/auth/login?return_to=%2Fverified%2Frecent%3Ftab%3D1&max_age=300&prompt=login"
        );
        assert!(
            login_url("/auth/login", "//evil.example", 5).starts_with("/auth/login?return_to=%2F&")
        );
    }

    #[test]
    fn answers() {
        let url = "/auth/login?return_to=%2F&max_age=300&prompt=login";
        let browser = answer(true, false, Ask::MaxAge(300), url);
        assert_eq!(browser.status, 303);
        let api = answer(false, false, Ask::MaxAge(300), url);
        assert_eq!(api.status, 401);
        assert!(!api.headers.iter().any(|(k, _)| *k == "www-authenticate"));
        let body: serde_json::Value = serde_json::from_str(&api.body).unwrap();
        assert_eq!(body["error"], ERROR);
        assert_eq!(body["max_age"], 300);
        assert_eq!(body["login_url"], url);
        // A bearer client gets RFC 9470's challenge, even with a browser's `Accept`.
        let bearer = answer(true, true, Ask::MaxAge(300), url);
        assert_eq!(bearer.status, 401);
        let challenge = bearer
            .headers
            .iter()
            .find(|(k, _)| *k == "www-authenticate");
        let challenge = &challenge.expect("a challenge").1;
        assert!(
            challenge.starts_with("Bearer error=\"insufficient_user_authentication\""),
            "{challenge}"
        );
        assert!(challenge.ends_with("max_age=\"300\""), "{challenge}");
    }

    #[test]
    fn an_assurance_step_up_asks_for_acr_values() {
        let values = "http://idmanagement.gov/ns/assurance/aal/2 urn:b";
        let url = step_up_url("/auth/login", "/pay", Ask::Acr(values));
        assert_eq!(
            url,
            "/auth/login?return_to=%2Fpay&acr_values=http%3A%2F%2Fidmanagement.gov%2Fns%2Fassurance%2Faal%2F2+urn%3Ab&prompt=login"
        );
        let bearer = answer(false, true, Ask::Acr(values), &url);
        let body: serde_json::Value = serde_json::from_str(&bearer.body).unwrap();
        assert_eq!(body["acr_values"], values);
        assert!(body.get("max_age").is_none());
        let challenge = &bearer
            .headers
            .iter()
            .find(|(k, _)| *k == "www-authenticate")
            .unwrap()
            .1;
        assert!(
            challenge.ends_with(&format!("acr_values=\"{values}\"")),
            "{challenge}"
        );
    }
}
