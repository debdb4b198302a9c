//! [`SecurityEventKind`]: the event types of the RISC profile (OpenID RISC Event Types
//! 1.0) and CAEP's session revocation, by their URIs.

/// The RISC event types' URI prefix.
const RISC: &str = "https://schemas.openid.net/secevent/risc/event-type/";
/// The CAEP event types' URI prefix.
const CAEP: &str = "https://schemas.openid.net/secevent/caep/event-type/";

/// What a security event says happened, from its event-type URI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecurityEventKind {
    /// RISC `account-disabled`: the account can no longer sign in.
    AccountDisabled,
    /// RISC `account-purged`: the account was deleted.
    AccountPurged,
    /// RISC `account-enabled`: a disabled account may sign in again.
    AccountEnabled,
    /// RISC `credential-compromise`: a credential of the account is known to be compromised.
    CredentialCompromise,
    /// RISC `credential-change-required`: the person must change a credential.
    CredentialChangeRequired,
    /// RISC `identifier-changed`: the account's identifier (email, phone) changed.
    IdentifierChanged,
    /// RISC `identifier-recycled`: the identifier now belongs to someone else.
    IdentifierRecycled,
    /// RISC `recovery-activated`: account recovery was started.
    RecoveryActivated,
    /// RISC `recovery-information-changed`: the recovery information changed.
    RecoveryInformationChanged,
    /// RISC `sessions-revoked`: every session of the account was ended at the provider.
    SessionsRevoked,
    /// CAEP `session-revoked`: a session of the account was ended at the provider.
    SessionRevoked,
    /// Any other event type, by its URI (handed to the application as it is).
    Other(String),
}

impl SecurityEventKind {
    /// The kind an event-type URI names ([`Other`](Self::Other) for one not listed).
    pub fn from_uri(uri: &str) -> Self {
        let risc = match uri.strip_prefix(RISC) {
            Some("account-disabled") => Self::AccountDisabled,
            Some("account-purged") => Self::AccountPurged,
            Some("account-enabled") => Self::AccountEnabled,
            Some("credential-compromise") => Self::CredentialCompromise,
            Some("credential-change-required") => Self::CredentialChangeRequired,
            Some("identifier-changed") => Self::IdentifierChanged,
            Some("identifier-recycled") => Self::IdentifierRecycled,
            Some("recovery-activated") => Self::RecoveryActivated,
            Some("recovery-information-changed") => Self::RecoveryInformationChanged,
            Some("sessions-revoked") => Self::SessionsRevoked,
            _ => Self::Other(uri.to_owned()),
        };
        match (&risc, uri.strip_prefix(CAEP)) {
            (Self::Other(_), Some("session-revoked")) => Self::SessionRevoked,
            _ => risc,
        }
    }

    /// The event-type URI.
    pub fn uri(&self) -> String {
        let risc = |name: &str| format!("{RISC}{name}");
        match self {
            Self::AccountDisabled => risc("account-disabled"),
            Self::AccountPurged => risc("account-purged"),
            Self::AccountEnabled => risc("account-enabled"),
            Self::CredentialCompromise => risc("credential-compromise"),
            Self::CredentialChangeRequired => risc("credential-change-required"),
            Self::IdentifierChanged => risc("identifier-changed"),
            Self::IdentifierRecycled => risc("identifier-recycled"),
            Self::RecoveryActivated => risc("recovery-activated"),
            Self::RecoveryInformationChanged => risc("recovery-information-changed"),
            Self::SessionsRevoked => risc("sessions-revoked"),
            Self::SessionRevoked => format!("{CAEP}session-revoked"),
            Self::Other(uri) => uri.clone(),
        }
    }

    /// Whether the event ends the person's access here: every session and every app grant
    /// of the person ends (account disabled or purged, credential compromised or to be
    /// changed, identifier recycled, sessions revoked).
    pub fn ends_access(&self) -> bool {
        matches!(
            self,
            Self::AccountDisabled
                | Self::AccountPurged
                | Self::CredentialCompromise
                | Self::CredentialChangeRequired
                | Self::IdentifierRecycled
                | Self::SessionsRevoked
                | Self::SessionRevoked
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_uri() {
        for kind in [
            SecurityEventKind::AccountDisabled,
            SecurityEventKind::AccountPurged,
            SecurityEventKind::AccountEnabled,
            SecurityEventKind::CredentialCompromise,
            SecurityEventKind::CredentialChangeRequired,
            SecurityEventKind::IdentifierChanged,
            SecurityEventKind::IdentifierRecycled,
            SecurityEventKind::RecoveryActivated,
            SecurityEventKind::RecoveryInformationChanged,
            SecurityEventKind::SessionsRevoked,
            SecurityEventKind::SessionRevoked,
        ] {
            assert_eq!(SecurityEventKind::from_uri(&kind.uri()), kind);
            assert!(!matches!(kind, SecurityEventKind::Other(_)));
        }
        let other = "https://schemas.openid.net/secevent/risc/event-type/account-credential-change-required";
        assert_eq!(
            SecurityEventKind::from_uri(other),
            SecurityEventKind::Other(other.into())
        );
    }

    #[test]
    fn only_the_events_that_end_access_do() {
        use SecurityEventKind as K;
        let ending = [
            K::AccountDisabled,
            K::AccountPurged,
            K::CredentialCompromise,
            K::CredentialChangeRequired,
            K::IdentifierRecycled,
            K::SessionsRevoked,
            K::SessionRevoked,
        ];
        let informative = [
            K::AccountEnabled,
            K::IdentifierChanged,
            K::RecoveryActivated,
            K::RecoveryInformationChanged,
            K::Other("urn:x".into()),
        ];
        assert!(ending.iter().all(K::ends_access));
        assert!(!informative.iter().any(K::ends_access));
    }
}
