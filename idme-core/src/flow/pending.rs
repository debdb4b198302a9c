//! The pending login: what the callback must match (state, nonce, PKCE verifier, where to
//! go next), sealed into a short-lived cookie named after the login's `state`, so logins
//! in several tabs do not clobber each other. What makes each login single-use is in
//! `replay`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ResponseMode, ResponseType};
use crate::secret::{Nonce, PkceVerifier, State};

/// Every pending-login cookie name starts with this on plain-http loopback.
pub(crate) const COOKIE_PREFIX: &str = "idme_login_";
/// Over https: the `__Host-` prefix makes browsers refuse the cookie unless it is
/// `Secure`, `Path=/` and has no `Domain`, so a sibling subdomain cannot plant one.
pub(crate) const HOST_COOKIE_PREFIX: &str = "__Host-idme_login_";

/// The prefix of pending-login cookie names: `__Host-` prefixed over https.
pub(crate) fn cookie_prefix(secure: bool) -> &'static str {
    if secure {
        HOST_COOKIE_PREFIX
    } else {
        COOKIE_PREFIX
    }
}

/// The `Path` of the pending-login cookie: `/` over https (the `__Host-` prefix requires
/// it), the callback path on plain-http loopback.
pub(crate) fn cookie_path(secure: bool, callback_path: &str) -> &str {
    if secure { "/" } else { callback_path }
}

/// What a login started and what its callback must match.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PendingLogin {
    pub(crate) state: State,
    pub(crate) nonce: Nonce,
    pub(crate) pkce_verifier: Option<PkceVerifier>,
    pub(crate) return_to: String,
    /// Unix seconds.
    pub(crate) created_at: u64,
    pub(crate) response_type: ResponseType,
    pub(crate) response_mode: ResponseMode,
    /// The `max_age` sent: the ID token's `auth_time` must then be recent enough.
    #[serde(default)]
    pub(crate) max_age: Option<u64>,
    /// The `acr_values` sent: a returned `acr` must be one of them.
    #[serde(default)]
    pub(crate) acr_values: Option<String>,
    /// The `acr_values` were asked for by this login (a step-up guard): the ID token must
    /// carry an `acr`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) acr_required: bool,
    /// The redirect URI of this login when it is not the configured one (a native app's
    /// loopback listener on its own port): the code exchange must send it exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) redirect_uri: Option<String>,
}

impl PendingLogin {
    /// Unix seconds after which the login is over (`login_timeout` after it started).
    pub(crate) fn expires_at(&self, login_timeout: std::time::Duration) -> u64 {
        self.created_at + login_timeout.as_secs()
    }

    /// Whether the login is still pending at `now`: not expired, and not started in the
    /// future (a clock that went back).
    pub(crate) fn is_live(&self, login_timeout: std::time::Duration, now: u64) -> bool {
        (self.created_at..=self.expires_at(login_timeout)).contains(&now)
    }
}

/// The login's id: a hash of its `state`, so the callback finds the cookie from the
/// `state` it carries without the cookie name revealing the `state`.
pub(crate) fn login_id(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    hex::encode(&digest[..12])
}

/// The cookie name of the login whose state is `state` (see [`cookie_prefix`]).
pub(crate) fn cookie_name(state: &str, secure: bool) -> String {
    format!("{}{}", cookie_prefix(secure), login_id(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_name_is_stable_and_hides_the_state() {
        let n = cookie_name("some-state", false);
        assert_eq!(n, cookie_name("some-state", false));
        assert_ne!(n, cookie_name("other-state", false));
        assert!(n.starts_with(COOKIE_PREFIX));
        assert!(!n.contains("some-state"));
        let h = cookie_name("some-state", true);
        assert_eq!(h, format!("__Host-{n}"));
        assert_eq!(cookie_path(true, "/auth/callback"), "/");
        assert_eq!(cookie_path(false, "/auth/callback"), "/auth/callback");
    }
}
