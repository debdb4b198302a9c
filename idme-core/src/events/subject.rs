//! [`SubjectId`]: whom a security event is about, as a Subject Identifier (RFC 9493).

use serde_json::Value;

/// A Subject Identifier (RFC 9493 §3) of a security event. Formats other than those
/// listed, and listed ones missing their members, are [`Other`](Self::Other): handed to
/// the application as they came, never guessed at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectId {
    /// `iss_sub`: an issuer and a subject at that issuer (for ID.me, the OIDC issuer and
    /// the person's `sub`).
    IssSub {
        /// The issuer.
        iss: String,
        /// The subject at the issuer.
        sub: String,
    },
    /// `opaque`: an identifier only the transmitter and the receiver understand.
    Opaque {
        /// The identifier.
        id: String,
    },
    /// `email`: an email address.
    Email(String),
    /// `phone_number`: an E.164 phone number.
    PhoneNumber(String),
    /// Another format (or a malformed one), as the JSON object it came in.
    Other(Value),
}

impl SubjectId {
    /// Reads a Subject Identifier object.
    pub fn from_json(value: &Value) -> Self {
        let member = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        let format = value.get("format").and_then(Value::as_str);
        let known = match format {
            Some("iss_sub") => member("iss")
                .zip(member("sub"))
                .map(|(iss, sub)| Self::IssSub { iss, sub }),
            Some("opaque") => member("id").map(|id| Self::Opaque { id }),
            Some("email") => member("email").map(Self::Email),
            Some("phone_number") => member("phone_number").map(Self::PhoneNumber),
            _ => None,
        };
        known.unwrap_or_else(|| Self::Other(value.clone()))
    }

    /// The person's `sub` at `issuer`: for an `iss_sub` subject whose `iss` is `issuer`
    /// (a trailing `/` aside), else `None`.
    pub fn sub_at(&self, issuer: &str) -> Option<&str> {
        match self {
            Self::IssSub { iss, sub }
                if iss.trim_end_matches('/') == issuer.trim_end_matches('/') =>
            {
                Some(sub)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_are_read_and_others_kept_as_they_came() {
        let iss_sub =
            SubjectId::from_json(&json!({"format":"iss_sub","iss":"https://i/","sub":"u"}));
        assert_eq!(iss_sub.sub_at("https://i"), Some("u"));
        assert_eq!(iss_sub.sub_at("https://other"), None);
        assert_eq!(
            SubjectId::from_json(&json!({"format":"opaque","id":"x"})),
            SubjectId::Opaque { id: "x".into() }
        );
        assert_eq!(
            SubjectId::from_json(&json!({"format":"email","email":"a@b"})),
            SubjectId::Email("a@b".into())
        );
        assert_eq!(
            SubjectId::from_json(&json!({"format":"phone_number","phone_number":"+1"})),
            SubjectId::PhoneNumber("+1".into())
        );
        for other in [
            json!({"format":"account","uri":"acct:a@b"}),
            json!({"format":"iss_sub","sub":"u"}),
            json!("not an object"),
        ] {
            let read = SubjectId::from_json(&other);
            assert_eq!(read, SubjectId::Other(other.clone()));
            assert_eq!(read.sub_at("https://i"), None);
        }
    }
}
