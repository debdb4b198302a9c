//! What a signed-in browser carries: the user's claims and tokens, sealed into one
//! `HttpOnly` cookie. Reading it on each request is pure and local: open the AEAD seal,
//! deserialise, check the expiry. No network, no signature check.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::IdmeConfig;
use crate::cookies::{RequestCookies, SameSite, SetCookie};
use crate::error::Unauthenticated;
use crate::secret::{AccessToken, RefreshToken};
use crate::verification::Verification;

/// Browsers drop cookies above about 4 KB; warn well before.
const COOKIE_SIZE_WARNING: usize = 3800;

/// A signed-in session.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    /// A fresh random id per login (never carried over from before the login).
    pub(crate) sid: String,
    pub(crate) sub: String,
    /// The user's claims: ID token claims without the protocol ones, overlaid with userinfo.
    pub(crate) claims: Map<String, Value>,
    /// What ID.me verified (groups, attributes), when `attributes.json` was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) verification: Option<Verification>,
    /// The login's nonce: a refreshed ID token may only repeat it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nonce: Option<String>,
    pub(crate) access_token: Option<AccessToken>,
    pub(crate) refresh_token: Option<RefreshToken>,
    /// Unix seconds.
    pub(crate) access_expires_at: Option<u64>,
    /// Unix seconds.
    pub(crate) created_at: u64,
    /// Unix seconds: the absolute end of the session.
    pub(crate) expires_at: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sub", &self.sub)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Claims that are about the token, not the user: not kept in the session.
const PROTOCOL_CLAIMS: &[&str] = &[
    "iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "azp", "jti", "sid",
];

/// Merges ID token claims and userinfo claims (userinfo wins), dropping protocol claims.
pub(crate) fn user_claims(
    id_token: Option<Map<String, Value>>,
    userinfo: Option<Map<String, Value>>,
) -> Map<String, Value> {
    let mut claims = id_token.unwrap_or_default();
    claims.extend(userinfo.unwrap_or_default());
    claims.retain(|k, _| !PROTOCOL_CLAIMS.contains(&k.as_str()));
    claims
}

impl Session {
    /// The cookie that stores this session.
    pub(crate) fn to_cookie(&self, config: &IdmeConfig, now: u64) -> SetCookie {
        let name = config.session_cookie_name();
        let value = config.cookie_keys.seal(name, self);
        if value.len() > COOKIE_SIZE_WARNING {
            tracing::warn!(
                target: "idme::session",
                bytes = value.len(),
                "the session cookie is close to the 4 KB browsers accept; request fewer claims"
            );
        }
        SetCookie {
            name: name.to_owned(),
            value,
            path: "/".into(),
            max_age: self.expires_at.saturating_sub(now) as i64,
            secure: config.secure_cookies,
            same_site: SameSite::Lax,
        }
    }

    /// Opens the session cookie of a request.
    pub(crate) fn from_cookies(
        config: &IdmeConfig,
        cookies: &RequestCookies,
        now: u64,
    ) -> Result<Session, Unauthenticated> {
        let name = config.session_cookie_name();
        let sealed = cookies.get(name).ok_or(Unauthenticated::NoSession)?;
        let session: Session = config
            .cookie_keys
            .open(name, sealed)
            .ok_or(Unauthenticated::Invalid)?;
        if now >= session.expires_at {
            return Err(Unauthenticated::Expired);
        }
        Ok(session)
    }

    /// The cookie that deletes the session.
    pub(crate) fn clear_cookie(config: &IdmeConfig) -> SetCookie {
        SetCookie::clear(config.session_cookie_name(), "/", config.secure_cookies)
    }
}
