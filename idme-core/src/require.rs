//! Verification requirements as types, for the adapters' typed guards
//! (`Verified<require::Veteran>` in axum, actix-web and Rocket alike).
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
