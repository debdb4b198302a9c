//! The signed-in user as handlers see it: `sub`, typed accessors that try ID.me's claim
//! names and the OIDC ones, and the raw claims.

use serde_json::{Map, Value, json};

use crate::cookies::SetCookie;
use crate::secret::AccessToken;
use crate::session::Session;
use crate::verification::{Group, Requirement, Verification};

/// What [`IdmeUser::from_parts`] builds a user from.
#[derive(Debug, Clone, Default)]
pub struct UserParts {
    /// The ID.me subject.
    pub sub: String,
    /// The claims shown ([`IdmeUser::claims`]).
    pub claims: Map<String, Value>,
    /// The verification shown ([`IdmeUser::verification`]).
    pub verification: Option<Verification>,
    /// [`IdmeUser::session_id`]: for a bearer user, its grant's id.
    pub session_id: String,
    /// When the user's session or grant started (Unix seconds).
    pub created_at: u64,
    /// [`IdmeUser::expires_at`] (Unix seconds).
    pub expires_at: u64,
    /// [`IdmeUser::provider_session_id`].
    pub provider_sid: Option<String>,
    /// [`IdmeUser::auth_time`]: when the person signed in (Unix seconds); for a bearer
    /// user, the sign-in of the web session that approved its grant. `None`: `created_at`.
    pub auth_time: Option<u64>,
    /// [`IdmeUser::acr`]: the assurance of that sign-in, when the provider named one.
    pub acr: Option<String>,
}

/// The authenticated user of a request. Adapters expose it as an extractor / request guard.
#[derive(Debug, Clone)]
pub struct IdmeUser {
    session: std::sync::Arc<Session>,
    /// The engine's time when this request was authenticated (Unix seconds): what
    /// [`access_token`](Self::access_token) checks the token's expiry against. `None` for
    /// a user that no request authenticated ([`from_parts`](Self::from_parts), a native
    /// session's [`user`](crate::native::NativeSession::user)).
    checked_at: Option<u64>,
}

impl IdmeUser {
    /// A user sharing an opened session (no copy on the hot path), authenticated at `now`
    /// by the engine's clock.
    pub(crate) fn from_shared(session: std::sync::Arc<Session>, now: Option<u64>) -> Self {
        Self {
            session,
            checked_at: now,
        }
    }

    /// A user that an [extension](crate::extension::Extension) authenticated (for
    /// `idme-apps`, the person behind a bearer token): no ID.me token, and exactly the
    /// claims and verification the extension chose to show.
    pub fn from_parts(parts: UserParts) -> Self {
        Self::from_shared(
            std::sync::Arc::new(Session {
                sid: parts.session_id,
                sub: parts.sub,
                claims: parts.claims,
                verification: parts.verification,
                nonce: None,
                id_token: None,
                access_token: None,
                refresh_token: None,
                access_expires_at: None,
                created_at: parts.created_at,
                expires_at: parts.expires_at,
                last_seen: parts.created_at,
                provider_sid: parts.provider_sid,
                auth_time: parts.auth_time,
                acr: parts.acr,
                user_json: Default::default(),
            }),
            None,
        )
    }

    /// The provider's session (ID.me's `sid` claim) this user signed in with, when the
    /// provider named one: what an OIDC back-channel logout names.
    pub fn provider_session_id(&self) -> Option<&str> {
        self.session.provider_sid.as_deref()
    }

    /// The ID.me subject: a stable id for the account. Key users on it, never on email.
    pub fn sub(&self) -> &str {
        &self.session.sub
    }

    /// Every claim of the user (ID token and userinfo, without protocol claims).
    pub fn claims(&self) -> &Map<String, Value> {
        &self.session.claims
    }

    /// One claim by name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.session.claims.get(name)
    }

    fn first_str(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .find_map(|n| self.claim(n).and_then(Value::as_str))
    }

    /// The email address (`email`).
    pub fn email(&self) -> Option<&str> {
        self.first_str(&["email"])
    }

    /// The first name (ID.me's `fname`, or OIDC's `given_name`).
    pub fn given_name(&self) -> Option<&str> {
        self.first_str(&["fname", "given_name"])
    }

    /// The last name (ID.me's `lname`, or OIDC's `family_name`).
    pub fn family_name(&self) -> Option<&str> {
        self.first_str(&["lname", "family_name"])
    }

    /// The birth date, `YYYY-MM-DD` (ID.me's `birth_date`, or OIDC's `birthdate`).
    pub fn birth_date(&self) -> Option<&str> {
        self.first_str(&["birth_date", "birthdate"])
    }

    /// ID.me's access token, if sign-in (or the engine's last refresh) returned one and it
    /// had not expired when the engine authenticated this request.
    ///
    /// The engine refreshes a token about to expire before the handler runs, so a handler
    /// normally gets a live one. It gets `None` when the token expired and could not be
    /// renewed (no refresh token, or the provider unreachable: the session itself stays
    /// valid). A token without an announced lifetime (no `expires_in`) is returned as is.
    /// The check uses the time of authentication, not of the call: a handler that runs
    /// longer than the token's remaining life may still be handed an expired one.
    ///
    /// A user built with [`from_parts`](Self::from_parts) has no access token; one from a
    /// native session's [`user`](crate::native::NativeSession::user) is not checked (see
    /// [`NativeSession::access_expires_at`](crate::native::NativeSession::access_expires_at)).
    pub fn access_token(&self) -> Option<&AccessToken> {
        let expired = match (self.checked_at, self.session.access_expires_at) {
            (Some(now), Some(expires_at)) => now >= expires_at,
            _ => false,
        };
        if expired {
            return None;
        }
        self.session.access_token.as_ref()
    }

    /// When [`access_token`](Self::access_token)'s token expires (Unix seconds), when the
    /// provider said.
    pub fn access_expires_at(&self) -> Option<u64> {
        self.session.access_expires_at
    }

    /// When the person signed in with ID.me (Unix seconds): the ID token's `auth_time`
    /// claim; when the provider sent none, the time the session was created (the sign-in
    /// here, which is never earlier than the one at the provider). For a bearer user
    /// (`idme-apps`), the sign-in of the web session that approved its grant. What
    /// [`RequestAuth::fresh`](crate::adapter::RequestAuth::fresh) (an adapter's `Fresh<N>`)
    /// checks.
    pub fn auth_time(&self) -> u64 {
        let s = &self.session;
        s.auth_time
            .or_else(|| s.claims.get("auth_time").and_then(Value::as_u64))
            .unwrap_or(s.created_at)
    }

    /// The assurance of the sign-in (the ID token's `acr` claim), when the provider named
    /// one; for a bearer user, that of the web session that approved its grant.
    pub fn acr(&self) -> Option<&str> {
        let s = &self.session;
        s.acr
            .as_deref()
            .or_else(|| s.claims.get("acr").and_then(Value::as_str))
    }

    /// The id of this session, new at every sign-in.
    pub fn session_id(&self) -> &str {
        &self.session.sid
    }

    /// When the session ends (Unix seconds).
    pub fn expires_at(&self) -> u64 {
        self.session.expires_at
    }

    /// `{"sub": …, "claims": {…}, "verification": {…}|null}`: what an app may show of the
    /// user (no tokens).
    pub fn to_json(&self) -> Value {
        json!({
            "sub": self.sub(),
            "claims": self.claims(),
            "verification": self.verification(),
        })
    }

    /// The document of [`to_json`](Self::to_json) as JSON text, serialised once per
    /// session and shared by every later request that carries it: the cheap way to answer
    /// `GET /me`.
    ///
    /// ```
    /// # fn demo(user: &idme_core::IdmeUser) {
    /// let body: &str = user.json();
    /// assert_eq!(serde_json::from_str::<serde_json::Value>(body).unwrap(), user.to_json());
    /// # }
    /// ```
    pub fn json(&self) -> &str {
        self.session
            .user_json
            .get_or_init(|| self.to_json().to_string())
    }
}

impl IdmeUser {
    /// What ID.me verified about this user, when `attributes.json` was read at sign-in.
    pub fn verification(&self) -> Option<&Verification> {
        self.session.verification.as_ref()
    }

    /// Whether ID.me verified the user's membership of `group`.
    pub fn is_verified(&self, group: Group) -> bool {
        self.verification().is_some_and(|v| v.is_verified(group))
    }

    /// Whether `group` is verified with `subgroup` (e.g. `Military` / `Veteran`).
    pub fn has_subgroup(&self, group: Group, subgroup: &str) -> bool {
        self.verification()
            .is_some_and(|v| v.has_subgroup(group, subgroup))
    }

    /// Whether the user meets `requirement`.
    pub fn meets(&self, requirement: &Requirement) -> bool {
        match requirement {
            Requirement::Group(g) => self.is_verified(*g),
            Requirement::Subgroup(g, s) => self.has_subgroup(*g, s),
            Requirement::Ial2 => self.is_ial2(),
        }
    }

    /// ID.me's `level_of_assurance` (1–3).
    pub fn level_of_assurance(&self) -> Option<u64> {
        self.claim("level_of_assurance").and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    }

    /// ID.me's `credential_ial` (`IAL1`, `IAL2`).
    pub fn credential_ial(&self) -> Option<&str> {
        self.first_str(&["credential_ial"])
    }

    /// ID.me's `credential_aal` (`AAL1`, `AAL2`).
    pub fn credential_aal(&self) -> Option<&str> {
        self.first_str(&["credential_aal"])
    }

    /// Whether the user signed in with multi-factor authentication (ID.me's `multifactor`).
    pub fn multifactor(&self) -> Option<bool> {
        self.claim("multifactor").and_then(|v| {
            v.as_bool().or_else(|| match v.as_str() {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            })
        })
    }

    /// Whether the user is verified at NIST IAL2 (`credential_ial` is `IAL2` or higher).
    pub fn is_ial2(&self) -> bool {
        self.credential_ial()
            .and_then(|ial| ial.trim_start_matches("IAL").parse::<u8>().ok())
            .is_some_and(|level| level >= 2)
    }
}

/// A request's signed-in user, and the cookies the adapter must set on the response
/// (a re-sealed session after a refresh or a last-seen update; usually none).
#[derive(Clone)]
#[must_use]
#[non_exhaustive]
pub struct Authenticated {
    /// The user.
    pub user: IdmeUser,
    /// Cookies to set on whatever response the request gets.
    pub set_cookies: Vec<SetCookie>,
}

/// Why a request has no signed-in user, and the cookies the adapter must set on the
/// response (the deletion of a dead session). Turn it into an answer with
/// the adapter glue's `RequestAuth` (a `303` to sign in or `401`), or, where signing in is
/// optional, set the cookies and carry on without a user — unless
/// [`is_unavailable`](Self::is_unavailable).
#[derive(Clone)]
#[must_use]
#[non_exhaustive]
pub struct Denied {
    /// [`Error::Unauthenticated`](crate::Error::Unauthenticated), or
    /// [`Error::SessionStoreUnavailable`](crate::Error::SessionStoreUnavailable).
    pub error: crate::Error,
    /// Cookies to set on whatever response the request gets.
    pub set_cookies: Vec<SetCookie>,
}

/// Cookie names only: the values are session credentials.
fn cookie_names(cookies: &[SetCookie]) -> Vec<&str> {
    cookies.iter().map(|c| c.name.as_str()).collect()
}

impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("user", &self.user)
            .field("set_cookies", &cookie_names(&self.set_cookies))
            .finish()
    }
}

impl std::fmt::Debug for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Denied")
            .field("error", &self.error)
            .field("set_cookies", &cookie_names(&self.set_cookies))
            .finish()
    }
}

impl Denied {
    /// Whether the session could not be checked at all (the store is down): answer `503`
    /// rather than treating the request as anonymous.
    pub fn is_unavailable(&self) -> bool {
        !matches!(self.error, crate::Error::Unauthenticated(_))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::IdmeUser;
    use crate::secret::AccessToken;
    use crate::session::Session;

    fn with_token(expires_at: Option<u64>) -> Arc<Session> {
        let mut session = Session::for_tests("sid", "sub", 1_000);
        session.access_token = Some(AccessToken::new("at"));
        session.access_expires_at = expires_at;
        Arc::new(session)
    }

    #[test]
    fn access_token_is_hidden_once_expired_at_authentication() {
        let live = IdmeUser::from_shared(with_token(Some(2_000)), Some(1_999));
        assert_eq!(live.access_token().map(AccessToken::secret), Some("at"));
        let expired = IdmeUser::from_shared(with_token(Some(2_000)), Some(2_000));
        assert!(expired.access_token().is_none());
        assert_eq!(expired.access_expires_at(), Some(2_000));
    }

    #[test]
    fn access_token_without_lifetime_or_request_time_is_returned() {
        let unknown = IdmeUser::from_shared(with_token(None), Some(u64::MAX));
        assert!(unknown.access_token().is_some());
        let unchecked = IdmeUser::from_shared(with_token(Some(2_000)), None);
        assert!(unchecked.access_token().is_some());
    }
}
