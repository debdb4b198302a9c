//! Verification requirements as types, for the adapters' typed guards
//! (`Verified<require::Veteran>` in axum, actix-web and Rocket alike), and the assurance
//! of the sign-in itself ([`Assurance`], for `Assured<require::Aal2>`).
//!
//! Each marker names a [`Requirement`]; define your own for other subgroups:
//!
//! ```
//! use idme_core::require::Verify;
//! use idme_core::{Group, Requirement};
//! struct Retiree;
//! impl Verify for Retiree {
//!     fn requirement() -> Requirement {
//!         Requirement::Subgroup(Group::Military, "Retiree".into())
//!     }
//! }
//! ```

use crate::verification::{Group, Requirement};

/// A verification requirement known at compile time.
pub trait Verify: Send + Sync + 'static {
    /// What the user must have.
    fn requirement() -> Requirement;
}

macro_rules! group_marker {
    ($($(#[$doc:meta])* $name:ident => $group:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl Verify for $name {
            fn requirement() -> Requirement {
                Requirement::Group(Group::$group)
            }
        }
    )*};
}

macro_rules! subgroup_marker {
    ($($(#[$doc:meta])* $name:ident => $group:ident, $subgroup:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl Verify for $name {
            fn requirement() -> Requirement {
                Requirement::Subgroup(Group::$group, $subgroup.to_owned())
            }
        }
    )*};
}

group_marker! {
    /// Verified military (any subgroup).
    Military => Military;
    /// Verified student.
    Student => Student;
    /// Verified teacher.
    Teacher => Teacher;
    /// Verified first responder.
    Responder => Responder;
    /// Verified nurse.
    Nurse => Nurse;
    /// Verified government employee.
    Government => Government;
}

/// Identity verified at NIST IAL2 (`credential_ial` of `IAL2` or higher). The 403 page's
/// verify link asks ID.me for the IAL2 policy.
#[derive(Debug, Clone, Copy)]
pub struct Ial2;
impl Verify for Ial2 {
    fn requirement() -> Requirement {
        Requirement::Ial2
    }
}

subgroup_marker! {
    /// Verified military, subgroup `Veteran`.
    Veteran => Military, "Veteran";
    /// Verified military, subgroup `Service Member`.
    ServiceMember => Military, "Service Member";
    /// Verified military, subgroup `Retiree`.
    MilitaryRetiree => Military, "Retiree";
    /// Verified military, subgroup `Military Spouse`.
    MilitarySpouse => Military, "Military Spouse";
}

/// An assurance a sign-in must have been made at, known at compile time, for the adapters'
/// `Assured<A>` guard: the ID token's `acr` (authentication context class) must be one of
/// [`ACR_VALUES`](Self::ACR_VALUES). A session signed in at a lower one is sent through a
/// login asking ID.me for them (`acr_values`, in this order of preference).
///
/// ```
/// use idme_core::require::Assurance;
/// /// Phishing-resistant authentication, for a payment page.
/// struct PhishingResistant;
/// impl Assurance for PhishingResistant {
///     const ACR_VALUES: &'static [&'static str] = &["http://idmanagement.gov/ns/assurance/aal/3"];
/// }
/// ```
pub trait Assurance: Send + Sync + 'static {
    /// The accepted `acr` values, the preferred first (at most 8, without spaces or quotes).
    const ACR_VALUES: &'static [&'static str];
}

/// ID.me's NIST AAL2 context class (multi-factor authentication).
pub const AAL2_ACR: &str = "http://idmanagement.gov/ns/assurance/aal/2";
/// ID.me's NIST IAL2 + AAL2 context class (identity proofed, multi-factor).
pub const IAL2_AAL2_ACR: &str = "http://idmanagement.gov/ns/assurance/ial/2/aal/2";

/// A sign-in at NIST AAL2 or better (an IAL2 + AAL2 sign-in also counts).
#[derive(Debug, Clone, Copy)]
pub struct Aal2;
impl Assurance for Aal2 {
    const ACR_VALUES: &'static [&'static str] = &[AAL2_ACR, IAL2_AAL2_ACR];
}

/// A sign-in at NIST IAL2 and AAL2: an identity-proofed person, multi-factor.
#[derive(Debug, Clone, Copy)]
pub struct Ial2Aal2;
impl Assurance for Ial2Aal2 {
    const ACR_VALUES: &'static [&'static str] = &[IAL2_AAL2_ACR];
}
