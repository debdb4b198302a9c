//! Which [`SignInOutcome`] a failed callback's [`Error`] counts as: a small fixed set of
//! classes, never the error's text.

use super::{CallbackRejected, Error};
use crate::metrics::SignInOutcome;

impl Error {
    /// The class of this error as a sign-in outcome (the `outcome` label of
    /// `idme_sign_ins_total`).
    pub(crate) fn sign_in_outcome(&self) -> SignInOutcome {
        match self {
            Error::CallbackRejected(c) => match c {
                CallbackRejected::AccessDenied => SignInOutcome::AccessDenied,
                CallbackRejected::LoginRequired(_) => SignInOutcome::LoginRequired,
                CallbackRejected::Replayed => SignInOutcome::Replayed,
                CallbackRejected::LoginExpired => SignInOutcome::Expired,
                CallbackRejected::MissingState
                | CallbackRejected::LoginCookieMissing
                | CallbackRejected::LoginCookieInvalid
                | CallbackRejected::StateMismatch => SignInOutcome::InvalidState,
                CallbackRejected::ResponseModeMismatch | CallbackRejected::Malformed => {
                    SignInOutcome::InvalidRequest
                }
                CallbackRejected::ProviderError(_) => SignInOutcome::ProviderError,
            },
            Error::ProviderRejected { .. } => SignInOutcome::ProviderError,
            Error::ProviderMisbehaved(m) if m.is_unreadable_answer() => {
                SignInOutcome::ProviderUnavailable
            }
            Error::ProviderMisbehaved(_) => SignInOutcome::InvalidToken,
            Error::ProviderUnavailable(_) => SignInOutcome::ProviderUnavailable,
            Error::SessionStoreUnavailable(_) => SignInOutcome::StoreUnavailable,
            Error::Unauthenticated(_) | Error::Config(_) | Error::ApiMisuse(_) => {
                SignInOutcome::Other
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_callback_refusal_has_its_class() {
        let class = |e: Error| e.sign_in_outcome().as_str();
        assert_eq!(
            class(CallbackRejected::AccessDenied.into()),
            "access_denied"
        );
        assert_eq!(class(CallbackRejected::Replayed.into()), "replayed");
        assert_eq!(
            class(CallbackRejected::StateMismatch.into()),
            "invalid_state"
        );
        assert_eq!(
            class(super::super::ProviderMisbehaved::BadSignature.into()),
            "invalid_token"
        );
        assert_eq!(
            class(crate::store::StoreError::new("down").into()),
            "store_unavailable"
        );
    }
}
