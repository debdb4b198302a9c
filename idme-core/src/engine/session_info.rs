//! The session route (`GET /auth/session`): what a single-page app needs to know about the
//! browser's session, as JSON, never a redirect.

use serde_json::{Value, json};

use super::Idme;
use crate::cookies::RequestCookies;
use crate::error::Error;
use crate::reply::Reply;
use crate::user::{Authenticated, Denied};

impl Idme {
    /// `GET` on the session route: the browser's session as JSON, for a single-page app
    /// served by this application (the backend-for-frontend pattern: the tokens stay on
    /// the server, the browser holds only the `HttpOnly` session cookie). Always `200`
    /// unless the session store is down (`503`), and never a redirect:
    ///
    /// ```json
    /// {"signed_in": true, "user": {"sub": "…", …}, "expires_at": 1767225600,
    ///  "login_url": "/auth/login", "logout_url": "/auth/logout"}
    /// ```
    ///
    /// Signed out, `signed_in` is `false` and `user` and `expires_at` are `null`.
    /// `expires_at` is when the session ends at the latest (Unix seconds). The user is
    /// [`IdmeUser::json`](crate::IdmeUser::json). Answered with `Cache-Control: no-store`
    /// and the cookies authentication produced (a re-sealed or a dead session's).
    pub async fn session_info(&self, cookies: &RequestCookies) -> Reply {
        let paths = self.config().paths();
        let (user, set_cookies) = match self.authenticate(cookies).await {
            Ok(Authenticated { user, set_cookies }) => (Some(user), set_cookies),
            Err(Denied {
                error: error @ Error::SessionStoreUnavailable(_),
                set_cookies,
            }) => {
                tracing::warn!(target: "idme::session", error = %error, "session route: the session store is down");
                let body = json!({ "error": error.code(), "message": error.public_message() });
                return Reply::json(503, &body).with_cookies(set_cookies);
            }
            Err(Denied { set_cookies, .. }) => (None, set_cookies),
        };
        let body = json!({
            "signed_in": user.is_some(),
            "user": user.as_ref().map(|u| serde_json::from_str::<Value>(u.json()).unwrap_or(Value::Null)),
            "expires_at": user.as_ref().map(|u| u.expires_at()),
            "login_url": paths.login,
            "logout_url": paths.logout,
        });
        Reply::json(200, &body).with_cookies(set_cookies)
    }
}
