//! [`NativeError`]: every way a native sign-in can fail, with a message fit for the person
//! at the keyboard. No message carries a token, a code, a `state` or a secret.

use std::time::Duration;

/// Why a native sign-in, refresh or token-store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NativeError {
    /// The person cancelled the sign-in at ID.me (`error=access_denied`).
    #[error("sign-in cancelled at ID.me")]
    Cancelled,
    /// No redirect came back before the timeout.
    #[error("sign-in timed out after {} seconds without an answer from the browser", .0.as_secs())]
    Timeout(Duration),
    /// The configured loopback port is taken by another program.
    #[error("cannot listen on 127.0.0.1:{0}: the port is already in use")]
    PortInUse(u16),
    /// The redirect carried a `state` this sign-in did not send: it was forged or belongs
    /// to another sign-in (from [`idme_core::Idme::finish_native_login`]).
    /// [`NativeClient::login`](crate::NativeClient::login) does not end on it: its
    /// listener answers such a request with an error page and keeps waiting.
    #[error("sign-in refused: the redirect's state does not match this sign-in")]
    StateMismatch,
    /// The redirect carried the `state` of a sign-in that already finished (from
    /// [`idme_core::Idme::finish_native_login`]); [`NativeClient::login`]'s listener
    /// answers it with an error page and keeps waiting.
    ///
    /// [`NativeClient::login`]: crate::NativeClient::login
    #[error("sign-in refused: the redirect replays an earlier sign-in")]
    Replayed,
    /// A second authorization response reached the loopback listener while the first was
    /// being redeemed.
    ///
    /// No longer returned: the first redirect's sign-in stands (the code is bound to this
    /// login's PKCE verifier, so a copy of the redirect is of no use to whoever sent it),
    /// and the second request is told the sign-in was already answered. Kept so that code
    /// matching on it still compiles.
    #[error("sign-in abandoned: a second request reached the sign-in listener")]
    SecondRequest,
    /// The system browser could not be started.
    #[error("cannot open the browser ({0}): run with --no-browser and open the URL yourself")]
    Browser(String),
    /// Nobody is signed in (no stored tokens).
    #[error("not signed in")]
    NotSignedIn,
    /// The signed-in session cannot be renewed (no refresh token, or ID.me refused it):
    /// sign in again.
    #[error("the session cannot be renewed: sign in again")]
    SessionEnded,
    /// Reading or writing the token store failed.
    #[error("token store: {0}")]
    Store(String),
    /// The OS keyring holding the tokens failed.
    #[error("OS keyring: {0}")]
    Keyring(KeyringFailure),
    /// A local I/O failure of the loopback listener.
    #[error("sign-in listener: {0}")]
    Io(#[from] std::io::Error),
    /// The provider refused the sign-in or answered wrongly, or the configuration is
    /// invalid (the web engine's own checks).
    #[error("{}", describe(.0))]
    Core(idme_core::Error),
}

impl From<idme_core::Error> for NativeError {
    fn from(e: idme_core::Error) -> Self {
        use idme_core::error::CallbackRejected as R;
        match &e {
            idme_core::Error::CallbackRejected(R::AccessDenied) => NativeError::Cancelled,
            idme_core::Error::CallbackRejected(R::StateMismatch) => NativeError::StateMismatch,
            idme_core::Error::CallbackRejected(R::Replayed) => NativeError::Replayed,
            _ => NativeError::Core(e),
        }
    }
}

impl From<idme_core::ConfigError> for NativeError {
    fn from(e: idme_core::ConfigError) -> Self {
        NativeError::Core(e.into())
    }
}

/// The core error's message: its own text for configuration errors (they name the
/// variable to fix), its public message plus the detail otherwise. Core error texts never
/// carry a token value.
fn describe(e: &idme_core::Error) -> String {
    match e {
        idme_core::Error::Config(_) => e.to_string(),
        _ => format!("sign-in failed: {e}"),
    }
}

/// Why the OS keyring could not keep the tokens. No variant carries the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringFailure {
    /// There is no keyring, or it is locked or refused access (the platform's reason).
    #[error("not available ({0})")]
    Unavailable(String),
    /// The stored entry is not a saved session.
    #[error("the stored entry is not a saved session; sign in again")]
    Unreadable,
    /// The session is larger than the keyring accepts (the Windows Credential Manager
    /// keeps at most 2560 bytes): keep the tokens in a file instead.
    #[error("{what} is longer than the keyring's limit of {limit}; keep the tokens in a file")]
    TooLarge {
        /// What is too long (the keyring's name for it).
        what: String,
        /// The keyring's limit.
        limit: u32,
    },
    /// The keyring refused the entry or the operation.
    #[error("refused: {0}")]
    Refused(String),
}
