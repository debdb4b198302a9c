//! [`KeyringStore`]: the session kept in the OS keyring (the Keychain on macOS, the
//! Credential Manager on Windows, the Secret Service on Linux and the BSDs).

use std::fmt;
use std::sync::{Arc, OnceLock};

use idme_core::native::NativeSession;
use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{KeyringFailure, NativeError};
use crate::store::TokenStore;

/// The most a stored session may weigh when read back (a session is a few KB).
const MAX_SECRET: usize = 1024 * 1024;

/// A session kept in a keyring entry: one entry per app (the entry's service) and
/// account (the client id and issuer, see [`token_account`](crate::token_account)); the
/// secret is the serialized [`NativeSession`].
///
/// [`platform`](Self::platform) opens the OS keyring; [`in_store`](Self::in_store) any
/// [`keyring_core`] store (for example `keyring_core::mock::Store` in tests). Neither
/// `Debug` nor an error ever shows the secret.
pub struct KeyringStore {
    entry: Entry,
    service: String,
    account: String,
    vendor: String,
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the entry: some stores' entries show their secret in `Debug`.
        f.debug_struct("KeyringStore")
            .field("service", &self.service)
            .field("account", &self.account)
            .field("keyring", &self.vendor)
            .finish()
    }
}

impl KeyringStore {
    /// The entry for `service` (the app's name) and `account` in the OS keyring. The
    /// platform's keyring is connected to once per process; when it is absent (no Secret
    /// Service on a headless Linux, for example) every call answers
    /// [`KeyringFailure::Unavailable`].
    pub fn platform(service: &str, account: &str) -> Result<Self, NativeError> {
        Self::in_store(&platform_store()?, service, account)
    }

    /// The entry for `service` and `account` in `store`.
    pub fn in_store(
        store: &Arc<CredentialStore>,
        service: &str,
        account: &str,
    ) -> Result<Self, NativeError> {
        let entry = Entry::new_in_store(store, service, account).map_err(failure)?;
        Ok(Self {
            entry,
            service: service.to_owned(),
            account: account.to_owned(),
            vendor: store.vendor(),
        })
    }

    /// Checks that the keyring answers: the entry is read (a missing entry is fine), so a
    /// keyring that is absent, locked or refuses access fails here rather than at sign-in.
    pub fn probe(&self) -> Result<(), NativeError> {
        match self.entry.get_secret() {
            Ok(_) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(failure(e)),
        }
    }

    /// The entry's service (the app's name).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The entry's account.
    pub fn account(&self) -> &str {
        &self.account
    }
}

impl KeyringStore {
    /// The value kept in the entry (`None` when there is none), for apps that keep more
    /// than the session; the session's [`TokenStore::load`] is this with a
    /// [`NativeSession`].
    pub fn load_value<T: DeserializeOwned>(&self) -> Result<Option<T>, NativeError> {
        let secret = match self.entry.get_secret() {
            Ok(secret) => secret,
            Err(KeyringError::NoEntry) => return Ok(None),
            Err(e) => return Err(failure(e)),
        };
        if secret.len() > MAX_SECRET {
            return Err(NativeError::Keyring(KeyringFailure::Unreadable));
        }
        // The parser's message may quote the secret: not kept.
        serde_json::from_slice(&secret)
            .map(Some)
            .map_err(|_| NativeError::Keyring(KeyringFailure::Unreadable))
    }

    /// Replaces the entry's value.
    pub fn save_value<T: Serialize>(&self, value: &T) -> Result<(), NativeError> {
        let json = serde_json::to_vec(value)
            .map_err(|e| NativeError::Store(format!("cannot serialize the value: {e}")))?;
        self.entry.set_secret(&json).map_err(failure)
    }

    /// Deletes the entry (no entry is not an error).
    pub fn clear_value(&self) -> Result<(), NativeError> {
        match self.entry.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(failure(e)),
        }
    }
}

impl TokenStore for KeyringStore {
    fn load(&self) -> Result<Option<NativeSession>, NativeError> {
        self.load_value()
    }
    fn save(&self, session: &NativeSession) -> Result<(), NativeError> {
        self.save_value(session)
    }
    fn clear(&self) -> Result<(), NativeError> {
        self.clear_value()
    }
}

/// The keyring's error as ours. Secret bytes some variants carry (`BadEncoding`,
/// `BadDataFormat`) and the entries of `Ambiguous` are dropped here.
fn failure(e: KeyringError) -> NativeError {
    let failure = match e {
        KeyringError::NoStorageAccess(e) | KeyringError::PlatformFailure(e) => {
            KeyringFailure::Unavailable(e.to_string())
        }
        KeyringError::NoDefaultStore => KeyringFailure::Unavailable("no keyring".into()),
        KeyringError::NoEntry
        | KeyringError::BadEncoding(_)
        | KeyringError::BadDataFormat(..)
        | KeyringError::BadStoreFormat(_) => KeyringFailure::Unreadable,
        KeyringError::TooLong(what, limit) => KeyringFailure::TooLarge { what, limit },
        KeyringError::Invalid(what, why) => KeyringFailure::Refused(format!("{what}: {why}")),
        KeyringError::NotSupportedByStore(why) => KeyringFailure::Refused(why),
        KeyringError::Ambiguous(entries) => {
            KeyringFailure::Refused(format!("{} entries match this account", entries.len()))
        }
        _ => KeyringFailure::Refused("unexpected keyring error".into()),
    };
    NativeError::Keyring(failure)
}

/// The OS keyring, connected to once per process.
fn platform_store() -> Result<Arc<CredentialStore>, NativeError> {
    static STORE: OnceLock<Result<Arc<CredentialStore>, String>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            connect().map_err(|e| match e {
                NativeError::Keyring(KeyringFailure::Unavailable(why)) => why,
                other => other.to_string(),
            })
        })
        .clone()
        .map_err(|why| NativeError::Keyring(KeyringFailure::Unavailable(why)))
}

fn connect() -> Result<Arc<CredentialStore>, NativeError> {
    #[cfg(target_os = "macos")]
    let store: keyring_core::Result<Arc<CredentialStore>> =
        apple_native_keyring_store::keychain::Store::new().map(|s| s as Arc<CredentialStore>);
    #[cfg(target_os = "windows")]
    let store: keyring_core::Result<Arc<CredentialStore>> =
        windows_native_keyring_store::Store::new().map(|s| s as Arc<CredentialStore>);
    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    let store: keyring_core::Result<Arc<CredentialStore>> =
        zbus_secret_service_keyring_store::Store::new().map(|s| s as Arc<CredentialStore>);
    #[cfg(not(any(
        target_os = "macos",
        target_os = "windows",
        all(
            unix,
            not(any(target_os = "macos", target_os = "ios", target_os = "android"))
        )
    )))]
    let store: keyring_core::Result<Arc<CredentialStore>> = Err(KeyringError::NoDefaultStore);
    store.map_err(failure)
}
