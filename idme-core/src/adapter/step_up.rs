//! Step-up sign-in: a route that needs a recent sign-in ([`RequestAuth::fresh`], an
//! adapter's `Fresh<N>`).
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

use serde_json::json;

use super::{GuardRequest, Rejection, RejectionReason, RequestAuth, missing_setup};
use crate::cookies::RequestCookies;
use crate::reply::{Reply, wants_html};
use crate::user::IdmeUser;

/// The error code of RFC 9470 §3, for bearer and cookie clients alike.
const ERROR: &str = "insufficient_user_authentication";
/// The explanation shown to API clients.
const DESCRIPTION: &str = "A more recent sign-in is required";

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
    let return_to = crate::flow::sanitize_return_to(Some(path_and_query));
    let mut url = String::from(login_path);
    url.push_str("?return_to=");
    url.extend(url::form_urlencoded::byte_serialize(return_to.as_bytes()));
    url.push_str(&format!("&max_age={max_age}&prompt=login"));
    url
}

/// The default answer to a stale sign-in (see the module's documentation).
fn answer(html: bool, bearer: bool, max_age: u64, login_url: &str) -> Reply {
    if html && !bearer {
        return Reply::redirect(login_url);
    }
    let mut reply = Reply::json(
        401,
        &json!({
            "error": ERROR,
            "error_description": DESCRIPTION,
            "message": DESCRIPTION,
            "max_age": max_age,
            "login_url": login_url,
        }),
    );
    if bearer {
        reply.headers.push((
            "www-authenticate",
            format!(
                "Bearer error=\"{ERROR}\", error_description=\"{DESCRIPTION}\", max_age=\"{max_age}\""
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
        let reply = answer(wants_html(req.accept()), bearer, max_age, &login_url);
        let reason = RejectionReason::StaleSignIn { max_age, login_url };
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
        let browser = answer(true, false, 300, url);
        assert_eq!(browser.status, 303);
        let api = answer(false, false, 300, url);
        assert_eq!(api.status, 401);
        assert!(!api.headers.iter().any(|(k, _)| *k == "www-authenticate"));
        let body: serde_json::Value = serde_json::from_str(&api.body).unwrap();
        assert_eq!(body["error"], ERROR);
        assert_eq!(body["max_age"], 300);
        assert_eq!(body["login_url"], url);
        // A bearer client gets RFC 9470's challenge, even with a browser's `Accept`.
        let bearer = answer(true, true, 300, url);
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
}
