//! The fixed test users the emulator can sign in as.

use serde_json::{Value, json};

/// A fixed test user of the emulator.
///
/// Every persona has stable claims (the same `sub`, names and verification status in every run), so tests
/// can assert on them.
///
/// ```
/// use idme_testkit::Persona;
/// let veteran = Persona::parse("Veteran").unwrap();
/// assert_eq!(veteran, Persona::Veteran);
/// assert_eq!(veteran.as_str(), "veteran");
/// assert_eq!(veteran.sub().len(), 32); // the same in every run
/// assert_eq!(Persona::parse("admiral"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Persona {
    /// A person with an ID.me account and no verified community (`level_of_assurance` 1).
    Unverified,
    /// A verified US military veteran (`military` group, subgroup `Veteran`).
    Veteran,
    /// A verified student (`student` group).
    Student,
    /// A verified teacher (`teacher` group).
    Teacher,
    /// Verified military, but a spouse, not a veteran (`military` group, subgroup
    /// `Military Spouse`): for tests that gate on subgroups.
    MilitarySpouse,
}

/// The fixed data behind one persona.
struct Profile {
    sub: &'static str,
    fname: &'static str,
    lname: &'static str,
    email: &'static str,
    birth_date: &'static str,
    zip: &'static str,
    /// `None` for the unverified persona.
    group: Option<(&'static str, &'static str)>,
}

const ALL: &[Persona] = &[
    Persona::Unverified,
    Persona::Veteran,
    Persona::Student,
    Persona::Teacher,
    Persona::MilitarySpouse,
];

impl Persona {
    /// Parses a persona name (`unverified`, `veteran`, `student`, `teacher`, `military-spouse`), ignoring case and surrounding
    /// whitespace.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        ALL.iter()
            .copied()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }

    /// The persona's name as [`Persona::parse`] accepts it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Persona::Unverified => "unverified",
            Persona::Veteran => "veteran",
            Persona::Student => "student",
            Persona::Teacher => "teacher",
            Persona::MilitarySpouse => "military-spouse",
        }
    }

    /// The persona's stable ID.me UUID (32 lowercase hex characters), used as `sub` and `uuid`.
    pub fn sub(&self) -> &'static str {
        self.profile().sub
    }

    /// Every persona, in the order the sign-in page shows them.
    pub fn all() -> &'static [Persona] {
        ALL
    }

    /// A human-readable label for the sign-in page.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Persona::Unverified => "Unverified user (Pat Doe)",
            Persona::Veteran => "Verified veteran (Vera Ranger)",
            Persona::Student => "Verified student (Sam Scholar)",
            Persona::Teacher => "Verified teacher (Tess Teacher)",
            Persona::MilitarySpouse => "Verified military spouse (Morgan Homefront)",
        }
    }

    fn profile(&self) -> Profile {
        match self {
            Persona::Unverified => Profile {
                sub: "0a1b2c3d4e5f40718293a4b5c6d7e8f9",
                fname: "Pat",
                lname: "Doe",
                email: "pat.doe@example.com",
                birth_date: "1990-04-01",
                zip: "10001",
                group: None,
            },
            Persona::Veteran => Profile {
                sub: "1f2e3d4c5b6a47988796a5b4c3d2e1f0",
                fname: "Vera",
                lname: "Ranger",
                email: "vera.ranger@example.com",
                birth_date: "1975-11-11",
                zip: "22201",
                group: Some(("military", "Veteran")),
            },
            Persona::Student => Profile {
                sub: "2b4d6f8a0c1e43a5b7c9d1e3f5a7b9c1",
                fname: "Sam",
                lname: "Scholar",
                email: "sam.scholar@example.com",
                birth_date: "2003-09-01",
                zip: "94305",
                group: Some(("student", "Student")),
            },
            Persona::Teacher => Profile {
                sub: "3c5e7a9b1d2f4068a4c6e8f0b2d4f6a8",
                fname: "Tess",
                lname: "Teacher",
                email: "tess.teacher@example.com",
                birth_date: "1982-02-14",
                zip: "60601",
                group: Some(("teacher", "Teacher")),
            },
            Persona::MilitarySpouse => Profile {
                sub: "4d6f8b0c2e3a4179b5d7f9a1c3e5a7b9",
                fname: "Morgan",
                lname: "Homefront",
                email: "morgan.homefront@example.com",
                birth_date: "1984-07-04",
                zip: "28310",
                group: Some(("military", "Military Spouse")),
            },
        }
    }

    /// ID.me's own userinfo claims for this persona (without `iss`, `aud`, `iat`, `exp`); `sub` and `uuid`
    /// are the given subject, which is the persona's own unless a fault says otherwise.
    pub(crate) fn userinfo_claims(&self, sub: &str) -> serde_json::Map<String, Value> {
        let p = self.profile();
        let verified = p.group.is_some();
        let claims = json!({
            "sub": sub,
            "uuid": sub,
            "fname": p.fname,
            "lname": p.lname,
            "email": p.email,
            "emails_confirmed": [p.email],
            "birth_date": p.birth_date,
            "zip": p.zip,
            "level_of_assurance": if verified { 3 } else { 1 },
            "credential_ial": if verified { "IAL2" } else { "IAL1" },
            "credential_aal": "AAL2",
            "multifactor": true,
        });
        match claims {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }

    /// The body of `attributes.json` for this persona.
    pub(crate) fn attributes(&self) -> Value {
        let p = self.profile();
        let status: Vec<Value> = p
            .group
            .iter()
            .map(|(group, subgroup)| json!({"group": group, "subgroups": [subgroup], "verified": true}))
            .collect();
        json!({
            "attributes": [
                {"handle": "fname", "name": "First Name", "value": p.fname},
                {"handle": "lname", "name": "Last Name", "value": p.lname},
                {"handle": "email", "name": "Email", "value": p.email},
                {"handle": "birth_date", "name": "Birth Date", "value": p.birth_date},
                {"handle": "zip", "name": "Zip Code", "value": p.zip},
                {"handle": "uuid", "name": "Unique Identifier", "value": p.sub},
            ],
            "status": status,
        })
    }
}

impl std::fmt::Display for Persona {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subs_are_stable_hex_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for p in Persona::all() {
            let sub = p.sub();
            assert_eq!(sub.len(), 32);
            assert!(
                sub.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
            assert!(seen.insert(sub));
            assert_eq!(Persona::parse(p.as_str()), Some(*p));
        }
        assert_eq!(Persona::parse(" Veteran "), Some(Persona::Veteran));
        assert_eq!(Persona::parse("admiral"), None);
    }
}
