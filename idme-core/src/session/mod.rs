//! What a signed-in browser carries: the user's claims and tokens.
//!
//! By default the whole session is sealed (AEAD) into the `HttpOnly` session cookie,
//! split into `name`, `name.1`, … when it outgrows one cookie; reading it on each request
//! is local: open the seal, deserialise, check the expiry. With a [`SessionStore`](crate::store::SessionStore)
//! the cookie holds only a sealed random id and the session lives in the store.
//!
//! On each request the engine also refreshes the access token shortly before it expires
//! (single-flight per session), enforces the idle and absolute lifetimes, and honours
//! logouts (local, and OIDC back-channel).

pub(crate) mod bookkeeping;
pub(crate) mod cache;
mod id_token_form;
pub(crate) mod sealed_copies;
pub(crate) mod shared_refresh;
/// Moved to [`crate::store`]; this path stays for compatibility.
pub use crate::store;
pub(crate) mod stored_copies;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::IdmeConfig;
use crate::cookies::{self, RequestCookies, SameSite, SetCookie};
use crate::error::Unauthenticated;
use crate::secret::{AccessToken, RefreshToken};
use crate::store::Record;
use crate::verification::Verification;

/// A signed-in session.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Session {
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
    /// The ID token as the provider issued it, kept only when the provider has an
    /// `end_session_endpoint`, for the `id_token_hint` of RP-initiated logout.
    /// Sealed split, see [`id_token_form`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "id_token_form"
    )]
    pub(crate) id_token: Option<crate::secret::IdToken>,
    pub(crate) access_token: Option<AccessToken>,
    pub(crate) refresh_token: Option<RefreshToken>,
    /// Unix seconds.
    pub(crate) access_expires_at: Option<u64>,
    /// Unix seconds.
    pub(crate) created_at: u64,
    /// Unix seconds: the absolute end of the session.
    pub(crate) expires_at: u64,
    /// Unix seconds: the last request seen, to the minute (for the idle timeout).
    #[serde(default)]
    pub(crate) last_seen: u64,
    /// The provider's session id (`sid` claim of the ID token), for back-channel logout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) provider_sid: Option<String>,
    /// When the person signed in (Unix seconds), for a user an
    /// [extension](crate::extension::Extension) built ([`UserParts`](crate::UserParts)):
    /// a browser's session reads the ID token's `auth_time` claim from `claims` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auth_time: Option<u64>,
    /// The sign-in's assurance (`acr`), for a user an extension built, like `auth_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) acr: Option<String>,
    /// The user's JSON ([`IdmeUser::json`](crate::IdmeUser::json)), made on first use and
    /// shared by every request that opens the same sealed session.
    #[serde(skip)]
    pub(crate) user_json: UserJson,
}

#[cfg(test)]
impl Session {
    /// A bare session for unit tests: `sid` of `sub`, signed in at `created_at` (also
    /// its last request), ending an hour later; no claims, tokens or provider session.
    pub(crate) fn for_tests(sid: &str, sub: &str, created_at: u64) -> Session {
        Session {
            sid: sid.into(),
            sub: sub.into(),
            claims: Map::new(),
            verification: None,
            nonce: None,
            id_token: None,
            access_token: None,
            refresh_token: None,
            access_expires_at: None,
            created_at,
            expires_at: created_at + 3600,
            last_seen: created_at,
            provider_sid: None,
            auth_time: None,
            acr: None,
            user_json: Default::default(),
        }
    }
}

/// The text of a session's user JSON, serialised at most once. A copy of the session
/// (about to be changed by a refresh) starts empty, so it never shows stale claims.
#[derive(Default)]
pub(crate) struct UserJson(std::sync::OnceLock<Box<str>>);

impl Clone for UserJson {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl UserJson {
    /// The cached text, made by `make` the first time.
    pub(crate) fn get_or_init(&self, make: impl FnOnce() -> String) -> &str {
        self.0.get_or_init(|| make().into_boxed_str())
    }
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

/// What the session cookie holds when sessions live in a store: only the id.
#[derive(Serialize, Deserialize)]
struct Handle {
    id: String,
}

impl Session {
    /// Unix seconds at which the session ends: its absolute end, or its idle end.
    pub(crate) fn ends_at(&self, config: &IdmeConfig) -> u64 {
        match config.session_idle_timeout {
            Some(idle) => self
                .expires_at
                .min(self.last_seen.max(self.created_at) + idle.as_secs()),
            None => self.expires_at,
        }
    }

    /// The cookies that carry this session: the sealed session itself (chunked when
    /// large), or with a store the sealed id; stale chunks of `present` are cleared.
    pub(crate) fn to_cookies(
        &self,
        config: &IdmeConfig,
        present: &RequestCookies,
        now: u64,
    ) -> Vec<SetCookie> {
        self.cookies_carrying(&self.sealed(config), config, present, now)
    }

    /// The session cookie's value: the sealed session (cookie store) or its sealed id.
    pub(crate) fn sealed(&self, config: &IdmeConfig) -> String {
        let name = config.session_cookie_name();
        match &config.session_store {
            Some(_) => config.cookie_keys.seal(
                name,
                &Handle {
                    id: self.sid.clone(),
                },
            ),
            None => config.cookie_keys.seal_compact(name, self),
        }
    }

    /// The cookies carrying `value` (this session [`sealed`](Self::sealed)), clearing
    /// chunks of a longer value that `present` still has.
    pub(crate) fn cookies_carrying(
        &self,
        value: &str,
        config: &IdmeConfig,
        present: &RequestCookies,
        now: u64,
    ) -> Vec<SetCookie> {
        let name = config.session_cookie_name();
        let template = SetCookie {
            name: name.to_owned(),
            value: String::new(),
            path: "/".into(),
            max_age: self.expires_at.saturating_sub(now) as i64,
            secure: config.secure_cookies,
            same_site: SameSite::Lax,
        };
        cookies::chunked(&template, value, present)
    }

    /// The record that stores this session: sealed and bound to its id.
    pub(crate) fn to_record(&self, config: &IdmeConfig) -> Record {
        Record {
            id: self.sid.clone(),
            sub: self.sub.clone(),
            provider_sid: self.provider_sid.clone(),
            expires_at: self.ends_at(config),
            data: config
                .cookie_keys
                .seal_compact(&record_binding(&self.sid), self),
        }
    }

    /// Opens a stored record; `None` if it does not open (tampered, another id, retired key).
    pub(crate) fn from_record(config: &IdmeConfig, record: &Record) -> Option<Session> {
        config
            .cookie_keys
            .open_compact::<Session>(&record_binding(&record.id), &record.data)
            .filter(|s| s.sid == record.id)
    }

    /// The session id the request's cookie names (store mode).
    pub(crate) fn id_from_cookies(
        config: &IdmeConfig,
        cookies: &RequestCookies,
    ) -> Result<String, Unauthenticated> {
        let name = config.session_cookie_name();
        let sealed = cookies::reassemble(cookies, name).ok_or(Unauthenticated::NoSession)?;
        let sealed = sealed.map_err(|()| Unauthenticated::Invalid)?;
        config
            .cookie_keys
            .open::<Handle>(name, &sealed)
            .map(|h| h.id)
            .ok_or(Unauthenticated::Invalid)
    }

    /// The sealed session value of a request, its chunks reassembled.
    fn sealed_value<'a>(
        config: &IdmeConfig,
        cookies: &'a RequestCookies,
    ) -> Result<std::borrow::Cow<'a, str>, Unauthenticated> {
        cookies::reassemble(cookies, config.session_cookie_name())
            .ok_or(Unauthenticated::NoSession)?
            .map_err(|()| Unauthenticated::Invalid)
    }

    /// Decrypts and deserialises a sealed session value.
    fn open_sealed(config: &IdmeConfig, sealed: &str) -> Result<Session, Unauthenticated> {
        config
            .cookie_keys
            .open_compact(config.session_cookie_name(), sealed)
            .ok_or(Unauthenticated::Invalid)
    }

    /// Opens the session cookie of a request (cookie mode).
    #[cfg_attr(not(any(test, feature = "test-util")), allow(dead_code))]
    pub(crate) fn from_cookies(
        config: &IdmeConfig,
        cookies: &RequestCookies,
        now: u64,
    ) -> Result<Session, Unauthenticated> {
        let session = Self::open_sealed(config, &Self::sealed_value(config, cookies)?)?;
        session.check_lifetime(config, now)?;
        Ok(session)
    }

    /// Like [`from_cookies`](Self::from_cookies), through `cache`: a sealed value opened
    /// before is not decrypted and deserialised again (the lifetime is still checked).
    pub(crate) fn from_cookies_cached(
        config: &IdmeConfig,
        cookies: &RequestCookies,
        cache: &cache::OpenedCache<Session>,
        now: u64,
    ) -> Result<std::sync::Arc<Session>, Unauthenticated> {
        let sealed = Self::sealed_value(config, cookies)?;
        let session = match cache.get(&sealed) {
            Some(session) => session,
            None => {
                let session = std::sync::Arc::new(Self::open_sealed(config, &sealed)?);
                cache.insert(&sealed, session.clone(), |s| {
                    s.check_lifetime(config, now).is_ok()
                });
                session
            }
        };
        session.check_lifetime(config, now)?;
        Ok(session)
    }

    /// Fails when the session is past its absolute or idle end.
    pub(crate) fn check_lifetime(
        &self,
        config: &IdmeConfig,
        now: u64,
    ) -> Result<(), Unauthenticated> {
        if now >= self.ends_at(config) {
            return Err(Unauthenticated::Expired);
        }
        Ok(())
    }

    /// The cookies that delete the session (and every chunk the request carries).
    pub(crate) fn clear_cookies(config: &IdmeConfig, present: &RequestCookies) -> Vec<SetCookie> {
        cookies::clear_chunked(
            config.session_cookie_name(),
            "/",
            config.secure_cookies,
            present,
        )
    }
}

/// The associated data binding a stored record to its id.
fn record_binding(id: &str) -> String {
    format!("idme_session_record:{id}")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{CookieKeys, Environment, IdmeBuilder};

    fn config(idle: Option<Duration>) -> IdmeConfig {
        let mut b = IdmeBuilder::new()
            .environment(Environment::Custom("http://127.0.0.1:9/oidc".into()))
            .client_id("c")
            .client_secret("s")
            .redirect_uri("http://127.0.0.1:8080/auth/callback")
            .cookie_keys(CookieKeys::random())
            .session_lifetime(Duration::from_secs(3600));
        if let Some(idle) = idle {
            b = b.session_idle_timeout(idle);
        }
        b.build().unwrap()
    }

    fn session(now: u64) -> Session {
        Session::for_tests("sid", "sub", now)
    }

    #[test]
    fn idle_and_absolute_lifetimes() {
        let now = 1_000_000;
        let idle = config(Some(Duration::from_secs(900)));
        let mut s = session(now);
        assert!(s.check_lifetime(&idle, now + 899).is_ok());
        assert_eq!(
            s.check_lifetime(&idle, now + 900),
            Err(Unauthenticated::Expired)
        );
        // Seen again: the idle end moves, the absolute end does not.
        s.last_seen = now + 3000;
        assert!(s.check_lifetime(&idle, now + 3599).is_ok());
        assert_eq!(
            s.check_lifetime(&idle, now + 3600),
            Err(Unauthenticated::Expired)
        );
        let no_idle = config(None);
        let s = session(now);
        assert!(s.check_lifetime(&no_idle, now + 3599).is_ok());
        assert_eq!(
            s.check_lifetime(&no_idle, now + 3600),
            Err(Unauthenticated::Expired)
        );
        assert!(
            IdmeBuilder::new()
                .session_idle_timeout(Duration::from_secs(5))
                .client_id("c")
                .build()
                .is_err()
        );
    }

    #[test]
    fn large_sessions_round_trip_through_chunks_and_refuse_tampering() {
        let config = config(None);
        let now = 1_000_000;
        let mut s = session(now);
        // Text that does not compress (the session is deflated before it is sealed).
        let hasher = std::collections::hash_map::RandomState::new();
        let bio: String = (0u64..1500)
            .map(|i| format!("{:016x}", std::hash::BuildHasher::hash_one(&hasher, i)))
            .collect();
        s.claims.insert("bio".into(), bio.clone().into());
        let set = s.to_cookies(&config, &RequestCookies::default(), now);
        assert!(set.len() >= 4);
        let header = |set: &[SetCookie]| {
            set.iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let req = RequestCookies::from_header_values([header(&set).as_str()]);
        let back = Session::from_cookies(&config, &req, now).unwrap();
        assert_eq!(back.claims["bio"].as_str().unwrap(), bio);
        // Missing chunk, truncated chunk: no session, no panic.
        let missing: Vec<SetCookie> = set.iter().skip(1).cloned().collect();
        let req = RequestCookies::from_header_values([header(&missing).as_str()]);
        assert!(Session::from_cookies(&config, &req, now).is_err());
        let without_middle: Vec<SetCookie> = set
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 2)
            .map(|(_, c)| c.clone())
            .collect();
        let req = RequestCookies::from_header_values([header(&without_middle).as_str()]);
        assert_eq!(
            Session::from_cookies(&config, &req, now).unwrap_err(),
            Unauthenticated::Invalid
        );
        let mut truncated = set.clone();
        truncated[1].value.truncate(10);
        let req = RequestCookies::from_header_values([header(&truncated).as_str()]);
        assert_eq!(
            Session::from_cookies(&config, &req, now).unwrap_err(),
            Unauthenticated::Invalid
        );
    }
}
