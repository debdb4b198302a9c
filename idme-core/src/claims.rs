//! The signed-in user as handlers see it: `sub`, typed accessors that try ID.me's claim
//! names and the OIDC ones, and the raw claims.

use serde_json::{Map, Value, json};

use crate::secret::AccessToken;
use crate::session::Session;

/// The authenticated user of a request. Adapters expose it as an extractor / request guard.
#[derive(Debug, Clone)]
pub struct IdmeUser {
    session: Session,
}

impl IdmeUser {
    pub(crate) fn new(session: Session) -> Self {
        Self { session }
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

    /// `{"sub": …, "claims": {…}}`: what an app may show of the user (no tokens).
    pub fn to_json(&self) -> Value {
        json!({ "sub": self.sub(), "claims": self.claims() })
    }
}
