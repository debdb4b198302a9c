//! ID.me identity verification: the policies a login asks for ([`Policy`], sent as
//! scopes), the communities a person can be verified in ([`Group`]), and what ID.me says
//! about this person ([`Verification`], read from `attributes.json`).
//!
//! `verified: true` on `military` does not make someone a veteran: gate on subgroups with
//! [`Verification::has_subgroup`] where it matters.

use serde::{Deserialize, Serialize};

/// An ID.me policy, requested as a scope next to `openid`. Each is enabled per client by
/// ID.me; an unknown one gives `invalid_scope`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Policy {
    /// `military`: service members, veterans, retirees, military families.
    Military,
    /// `student`.
    Student,
    /// `teacher`.
    Teacher,
    /// `responder` (first responders).
    Responder,
    /// `nurse`.
    Nurse,
    /// `government` employees.
    Government,
    /// `employee`.
    Employee,
    /// `hospital_employee`.
    HospitalEmployee,
    /// `alumni`.
    Alumni,
    /// `medical` providers.
    Medical,
    /// `senior`.
    Senior,
    /// `low_income`.
    LowIncome,
    /// `age` verification.
    Age,
    /// `login` (sign-in only, no verification).
    Login,
    /// `mfa`.
    Mfa,
    /// `kba_replacement` identity proofing.
    KbaReplacement,
    /// `fortified_identity`.
    FortifiedIdentity,
    /// NIST IAL2 / AAL2 (`http://idmanagement.gov/ns/assurance/ial/2/aal/2`).
    Ial2,
    /// LOA3 (`http://idmanagement.gov/ns/assurance/loa/3`).
    Loa3,
    /// Any other handle ID.me enabled for the client (e.g. `military_canada`).
    Custom(String),
}

const IAL2: &str = "http://idmanagement.gov/ns/assurance/ial/2/aal/2";
const LOA3: &str = "http://idmanagement.gov/ns/assurance/loa/3";

impl Policy {
    /// The scope handle sent to ID.me.
    pub fn handle(&self) -> &str {
        match self {
            Policy::Military => "military",
            Policy::Student => "student",
            Policy::Teacher => "teacher",
            Policy::Responder => "responder",
            Policy::Nurse => "nurse",
            Policy::Government => "government",
            Policy::Employee => "employee",
            Policy::HospitalEmployee => "hospital_employee",
            Policy::Alumni => "alumni",
            Policy::Medical => "medical",
            Policy::Senior => "senior",
            Policy::LowIncome => "low_income",
            Policy::Age => "age",
            Policy::Login => "login",
            Policy::Mfa => "mfa",
            Policy::KbaReplacement => "kba_replacement",
            Policy::FortifiedIdentity => "fortified_identity",
            Policy::Ial2 => IAL2,
            Policy::Loa3 => LOA3,
            Policy::Custom(h) => h,
        }
    }

    /// A known policy by handle or short name (`ial2`, `loa3`, `first_responder` too);
    /// `None` for anything else (use [`Policy::Custom`] deliberately).
    pub fn known(name: &str) -> Option<Self> {
        Some(match name.trim() {
            "military" => Policy::Military,
            "student" => Policy::Student,
            "teacher" => Policy::Teacher,
            "responder" | "first_responder" => Policy::Responder,
            "nurse" => Policy::Nurse,
            "government" => Policy::Government,
            "employee" => Policy::Employee,
            "hospital_employee" => Policy::HospitalEmployee,
            "alumni" => Policy::Alumni,
            "medical" => Policy::Medical,
            "senior" => Policy::Senior,
            "low_income" => Policy::LowIncome,
            "age" => Policy::Age,
            "login" => Policy::Login,
            "mfa" => Policy::Mfa,
            "kba_replacement" => Policy::KbaReplacement,
            "fortified_identity" => Policy::FortifiedIdentity,
            "ial2" | IAL2 => Policy::Ial2,
            "loa3" | LOA3 => Policy::Loa3,
            _ => return None,
        })
    }

    /// A policy from a configured scope: known names map to their policy, anything else
    /// is kept as [`Policy::Custom`].
    pub fn parse(name: &str) -> Self {
        Self::known(name).unwrap_or_else(|| Policy::Custom(name.trim().to_owned()))
    }

    /// The community this policy verifies, if it is one.
    pub fn group(&self) -> Option<Group> {
        Group::parse(self.handle())
    }
}

/// A community ID.me verifies membership of, as named in `attributes.json` `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Group {
    /// `military`.
    Military,
    /// `student`.
    Student,
    /// `teacher`.
    Teacher,
    /// `responder`.
    Responder,
    /// `nurse`.
    Nurse,
    /// `government`.
    Government,
    /// `employee`.
    Employee,
    /// `hospital_employee`.
    HospitalEmployee,
    /// `alumni`.
    Alumni,
    /// `medical`.
    Medical,
    /// `senior`.
    Senior,
    /// `low_income`.
    LowIncome,
}

impl Group {
    /// The name ID.me uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Military => "military",
            Group::Student => "student",
            Group::Teacher => "teacher",
            Group::Responder => "responder",
            Group::Nurse => "nurse",
            Group::Government => "government",
            Group::Employee => "employee",
            Group::HospitalEmployee => "hospital_employee",
            Group::Alumni => "alumni",
            Group::Medical => "medical",
            Group::Senior => "senior",
            Group::LowIncome => "low_income",
        }
    }

    /// Parses ID.me's name (also `first_responder`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "military" => Group::Military,
            "student" => Group::Student,
            "teacher" => Group::Teacher,
            "responder" | "first_responder" => Group::Responder,
            "nurse" => Group::Nurse,
            "government" => Group::Government,
            "employee" => Group::Employee,
            "hospital_employee" => Group::HospitalEmployee,
            "alumni" => Group::Alumni,
            "medical" => Group::Medical,
            "senior" => Group::Senior,
            "low_income" => Group::LowIncome,
            _ => return None,
        })
    }

    /// The policy that asks ID.me to verify this group.
    pub fn policy(self) -> Policy {
        Policy::known(self.as_str()).unwrap_or(Policy::Custom(self.as_str().to_owned()))
    }

    /// A label for people (`Military`, `Student`, …).
    pub fn label(self) -> &'static str {
        match self {
            Group::Military => "military",
            Group::Student => "student",
            Group::Teacher => "teacher",
            Group::Responder => "first responder",
            Group::Nurse => "nurse",
            Group::Government => "government employee",
            Group::Employee => "employee",
            Group::HospitalEmployee => "hospital employee",
            Group::Alumni => "alumni",
            Group::Medical => "medical provider",
            Group::Senior => "senior",
            Group::LowIncome => "low income",
        }
    }
}

impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a route demands of the signed-in user's verification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// Verified membership of the group.
    Group(Group),
    /// Verified membership with this subgroup (e.g. `Military` + `Veteran`).
    Subgroup(Group, String),
    /// Identity verified at NIST IAL2 (ID.me's `credential_ial`); the verify link asks for
    /// the IAL2 policy.
    Ial2,
}

impl Requirement {
    /// The community involved (`None` for [`Requirement::Ial2`]).
    pub fn group(&self) -> Option<Group> {
        match self {
            Requirement::Group(g) | Requirement::Subgroup(g, _) => Some(*g),
            Requirement::Ial2 => None,
        }
    }

    /// The policy a login asks for to meet this requirement.
    pub fn policy(&self) -> Policy {
        match self {
            Requirement::Group(g) | Requirement::Subgroup(g, _) => g.policy(),
            Requirement::Ial2 => Policy::Ial2,
        }
    }

    /// A sentence for people: "verified military (Veteran)".
    pub fn describe(&self) -> String {
        match self {
            Requirement::Group(g) => format!("verified {}", g.label()),
            Requirement::Subgroup(g, s) => format!("verified {} ({s})", g.label()),
            Requirement::Ial2 => "identity-verified (IAL2)".to_owned(),
        }
    }
}

/// One group's status in `attributes.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupStatus {
    /// ID.me's group name (`military`, …), kept as sent.
    pub group: String,
    /// Subgroups (`Veteran`, `Military Spouse`, …).
    #[serde(default)]
    pub subgroups: Vec<String>,
    /// Whether ID.me verified membership.
    #[serde(default)]
    pub verified: bool,
}

/// One attribute in `attributes.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attribute {
    /// Machine name (`fname`, `email`, `uuid`, …).
    pub handle: String,
    /// Human name.
    #[serde(default)]
    pub name: String,
    /// The value (ID.me sends strings; other JSON is kept as text).
    #[serde(default, deserialize_with = "value_as_string")]
    pub value: String,
}

fn value_as_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// What ID.me says about a person: verified groups and attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Group statuses (ID.me calls this list `status`).
    #[serde(default, alias = "status")]
    pub groups: Vec<GroupStatus>,
    /// Attributes.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

impl Verification {
    /// Parses an `attributes.json` body.
    pub fn from_attributes_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Whether ID.me verified membership of `group`.
    pub fn is_verified(&self, group: Group) -> bool {
        self.status(group).is_some_and(|s| s.verified)
    }

    /// Whether `group` is verified with the subgroup `subgroup` (compared
    /// case-insensitively: `Veteran`, `veteran`).
    pub fn has_subgroup(&self, group: Group, subgroup: &str) -> bool {
        self.status(group).is_some_and(|s| {
            s.verified && s.subgroups.iter().any(|g| g.eq_ignore_ascii_case(subgroup))
        })
    }

    /// The status of `group`, if ID.me sent one.
    pub fn status(&self, group: Group) -> Option<&GroupStatus> {
        self.groups
            .iter()
            .find(|s| Group::parse(&s.group) == Some(group))
    }

    /// The value of the attribute `handle`.
    pub fn attribute(&self, handle: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.handle == handle)
            .map(|a| a.value.as_str())
    }
}

/// Reads the policies endpoint's answer leniently (its exact shape is undocumented): a
/// list of handles, or of objects naming one in `handle`, `policy`, `scope` or `name`,
/// possibly under a `policies` member.
pub(crate) fn parse_policies(body: &[u8]) -> Option<Vec<String>> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    let list = match &doc {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(o) => o.get("policies")?.as_array()?,
        _ => return None,
    };
    Some(
        list.iter()
            .filter_map(|p| match p {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(o) => ["handle", "policy", "scope", "name"]
                    .iter()
                    .find_map(|k| o.get(*k).and_then(|v| v.as_str()))
                    .map(str::to_owned),
                _ => None,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn policies_endpoint_shapes() {
        assert_eq!(
            super::parse_policies(br#"[{"handle":"military"},"student"]"#),
            Some(vec!["military".to_owned(), "student".to_owned()])
        );
        assert_eq!(
            super::parse_policies(br#"{"policies":[{"name":"teacher"}]}"#),
            Some(vec!["teacher".to_owned()])
        );
        assert_eq!(super::parse_policies(b"<html>"), None);
    }

    use super::*;

    const BODY: &str = r#"{"attributes":[{"handle":"fname","name":"First Name","value":"Vera"},
        {"handle":"age","name":"Age","value":51}],
        "status":[{"group":"military","subgroups":["Veteran"],"verified":true},
                  {"group":"student","subgroups":[],"verified":false}]}"#;

    #[test]
    fn parses_attributes_json() {
        let v = Verification::from_attributes_json(BODY.as_bytes()).unwrap();
        assert!(v.is_verified(Group::Military));
        assert!(v.has_subgroup(Group::Military, "veteran"));
        assert!(!v.has_subgroup(Group::Military, "Retiree"));
        assert!(!v.is_verified(Group::Student), "listed but not verified");
        assert!(!v.is_verified(Group::Teacher));
        assert_eq!(v.attribute("fname"), Some("Vera"));
        assert_eq!(v.attribute("age"), Some("51"));
    }

    #[test]
    fn policies_map_to_handles() {
        assert_eq!(Policy::parse("ial2").handle(), IAL2);
        assert_eq!(Policy::parse(IAL2), Policy::Ial2);
        assert_eq!(Policy::parse("first_responder"), Policy::Responder);
        assert_eq!(
            Policy::parse("military_canada"),
            Policy::Custom("military_canada".into())
        );
        assert_eq!(Policy::Military.group(), Some(Group::Military));
        assert_eq!(Group::Military.policy(), Policy::Military);
    }
}
