//! The signed-in user as handlers see it: `sub`, typed accessors that try ID.me's claim
//! names and the OIDC ones, and the raw claims.

use serde_json::{Map, Value, json};

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
}

/// The authenticated user of a request. Adapters expose it as an extractor / request guard.
#[derive(Debug, Clone)]
pub struct IdmeUser {
    session: std::sync::Arc<Session>,
}

impl IdmeUser {
    /// A user sharing an opened session (no copy on the hot path).
    pub(crate) fn from_shared(session: std::sync::Arc<Session>) -> Self {
        Self { session }
    }

    /// A user that an [extension](crate::extension::Extension) authenticated (for
    /// `idme-apps`, the person behind a bearer token): no ID.me token, and exactly the
    /// claims and verification the extension chose to show.
    pub fn from_parts(parts: UserParts) -> Self {
        Self::from_shared(std::sync::Arc::new(Session {
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
            user_json: Default::default(),
        }))
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

    /// The access token, if the flow returned one and it has not expired.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.session.access_token.as_ref()
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
