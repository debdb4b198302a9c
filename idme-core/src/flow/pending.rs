//! The pending login: what the callback must match (state, nonce, PKCE verifier, where to
//! go next), sealed into a short-lived cookie named after the login's `state`, so logins
//! in several tabs do not clobber each other. What makes each login single-use is in
//! `replay`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ResponseMode, ResponseType};
use crate::secret::{Nonce, PkceVerifier, State};

/// Every pending-login cookie name starts with this.
pub(crate) const COOKIE_PREFIX: &str = "idme_login_";

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
}

/// The login's id: a hash of its `state`, so the callback finds the cookie from the
/// `state` it carries without the cookie name revealing the `state`.
pub(crate) fn login_id(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    hex::encode(&digest[..12])
}

/// The cookie name of the login whose state is `state`.
pub(crate) fn cookie_name(state: &str) -> String {
    format!("{COOKIE_PREFIX}{}", login_id(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_name_is_stable_and_hides_the_state() {
        let n = cookie_name("some-state");
        assert_eq!(n, cookie_name("some-state"));
        assert_ne!(n, cookie_name("other-state"));
        assert!(n.starts_with(COOKIE_PREFIX));
        assert!(!n.contains("some-state"));
    }
}
