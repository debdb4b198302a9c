//! The granted `scope` against the configured policies: IAL2 and LOA3 must be granted
//! explicitly; any other configured policy must be in `scope` whenever the provider returns
//! one (RFC 6749 §5.1: an absent `scope` means as requested). Policies added for one login
//! only (the verify link's `policy=`) are not required this way.

use crate::config::{ConfigError, ConflictRule, ResponseType};
use crate::error::ProviderMisbehaved;
use crate::verification::Policy;

/// Scopes that are not ID.me policies.
const NOT_POLICIES: &[&str] = &[
    "openid",
    "offline_access",
    "profile",
    "email",
    "address",
    "phone",
];

/// Whether `handle` is an assurance level that must be granted explicitly.
fn is_assurance(handle: &str) -> bool {
    handle == Policy::Ial2.handle() || handle == Policy::Loa3.handle()
}

/// Checks the granted `scope` of a token response (or of a front-channel access token).
pub(crate) fn check_granted_scope(
    configured: &[String],
    granted: Option<&str>,
) -> Result<(), ProviderMisbehaved> {
    for policy in configured
        .iter()
        .filter(|s| !NOT_POLICIES.contains(&s.as_str()))
    {
        let ok = match granted {
            Some(g) => g.split_whitespace().any(|w| w == policy),
            None => !is_assurance(policy),
        };
        if !ok {
            return Err(ProviderMisbehaved::ScopeNotGranted(
                policy.chars().take(128).collect(),
            ));
        }
    }
    Ok(())
}

/// IAL2/LOA3 can be confirmed only from a granted `scope`, which comes with an access
/// token: refused with response type `id_token`, which returns none.
pub(crate) fn check_config(scopes: &[String], rt: ResponseType) -> Result<(), ConfigError> {
    match scopes.iter().find(|s| is_assurance(s)) {
        Some(level) if rt == ResponseType::IdToken => Err(ConfigError::conflict(
            "IDME_SCOPES",
            "IDME_RESPONSE_TYPE",
            ConflictRule::AssuranceWithoutAccessToken {
                level: level.clone(),
            },
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IAL2: &str = "http://idmanagement.gov/ns/assurance/ial/2/aal/2";

    fn scopes(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn assurance_must_be_granted_explicitly() {
        let c = scopes(&format!("openid {IAL2}"));
        assert_eq!(
            check_granted_scope(&c, None),
            Err(ProviderMisbehaved::ScopeNotGranted(IAL2.into()))
        );
        assert!(check_granted_scope(&c, Some("openid")).is_err());
        assert!(check_granted_scope(&c, Some(&format!("{IAL2} openid"))).is_ok());
    }

    #[test]
    fn other_policies_only_when_scope_is_returned() {
        let c = scopes("openid military offline_access");
        assert!(check_granted_scope(&c, None).is_ok());
        assert!(check_granted_scope(&c, Some("openid military")).is_ok());
        assert_eq!(
            check_granted_scope(&c, Some("openid")),
            Err(ProviderMisbehaved::ScopeNotGranted("military".into()))
        );
    }

    #[test]
    fn assurance_with_id_token_only_is_a_config_error() {
        let c = scopes(&format!("openid {IAL2}"));
        let e = check_config(&c, ResponseType::IdToken).unwrap_err();
        assert!(e.to_string().contains("IDME_SCOPES"), "{e}");
        assert!(check_config(&c, ResponseType::Code).is_ok());
        assert!(check_config(&scopes("openid military"), ResponseType::IdToken).is_ok());
    }
}
