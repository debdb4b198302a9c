//! [`StoreChoice`]: which store keeps a native app's tokens, the OS keyring where one
//! works, else a file only the user can read.

use std::path::PathBuf;

use idme_core::native::NativeSession;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::NativeError;
#[cfg(feature = "keyring")]
use crate::keyring_store::KeyringStore;
use crate::store::{FileStore, TokenStore};

/// The account name of a client's tokens in a keyring: its client id and issuer, so two
/// clients (or one client against two providers) never share an entry.
pub fn token_account(client_id: &str, issuer: &str) -> String {
    format!("{client_id} at {issuer}")
}

/// Where an app asks its tokens to be kept; [`open`](Self::open) gives the store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StoreChoice {
    /// The OS keyring when it answers a probe (it is absent on a headless Linux without
    /// a Secret Service, or may be locked), else `tokens.json` in the user's data
    /// directory ([`FileStore::in_data_dir`]). Without the `keyring` feature, the file.
    #[default]
    Auto,
    /// The OS keyring, or an error when it does not answer.
    #[cfg(feature = "keyring")]
    Keyring,
    /// The file at this path.
    File(PathBuf),
}

impl StoreChoice {
    /// The store for the tokens of `app` (the keyring entry's service and the data
    /// directory's name) and `account` (the keyring entry's account, see
    /// [`token_account`]). Logs which store was chosen, and why the keyring was not.
    pub fn open(&self, app: &str, account: &str) -> Result<ChosenStore, NativeError> {
        // Without the keyring, nothing is stored under an account.
        #[cfg(not(feature = "keyring"))]
        let _ = account;
        let chosen = match self {
            #[cfg(feature = "keyring")]
            StoreChoice::Auto => {
                ChosenStore::keyring_or_file(KeyringStore::platform(app, account), || {
                    FileStore::in_data_dir(app)
                })?
            }
            #[cfg(not(feature = "keyring"))]
            StoreChoice::Auto => ChosenStore::File(FileStore::in_data_dir(app)?),
            #[cfg(feature = "keyring")]
            StoreChoice::Keyring => {
                let store = KeyringStore::platform(app, account)?;
                store.probe()?;
                ChosenStore::Keyring(store)
            }
            StoreChoice::File(path) => ChosenStore::File(FileStore::new(path)),
        };
        chosen.log();
        Ok(chosen)
    }
}

/// The store [`StoreChoice::open`] chose.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChosenStore {
    /// The OS keyring (or another keyring store).
    #[cfg(feature = "keyring")]
    Keyring(KeyringStore),
    /// A file only the user can read.
    File(FileStore),
}

impl ChosenStore {
    /// `keyring` when it is there and answers [`KeyringStore::probe`], else the file
    /// `file` gives (only asked for then).
    #[cfg(feature = "keyring")]
    pub fn keyring_or_file(
        keyring: Result<KeyringStore, NativeError>,
        file: impl FnOnce() -> Result<FileStore, NativeError>,
    ) -> Result<Self, NativeError> {
        match keyring.and_then(|k| k.probe().map(|()| k)) {
            Ok(k) => Ok(ChosenStore::Keyring(k)),
            Err(e) => {
                tracing::info!(reason = %e, "the OS keyring cannot keep the tokens: using a file");
                Ok(ChosenStore::File(file()?))
            }
        }
    }

    /// `true` when the tokens are in a keyring.
    pub fn is_keyring(&self) -> bool {
        match self {
            #[cfg(feature = "keyring")]
            ChosenStore::Keyring(_) => true,
            ChosenStore::File(_) => false,
        }
    }

    fn inner(&self) -> &dyn TokenStore {
        match self {
            #[cfg(feature = "keyring")]
            ChosenStore::Keyring(k) => k,
            ChosenStore::File(f) => f,
        }
    }

    fn log(&self) {
        match self {
            #[cfg(feature = "keyring")]
            ChosenStore::Keyring(k) => {
                tracing::info!(
                    service = k.service(),
                    account = k.account(),
                    "tokens kept in the OS keyring"
                );
            }
            ChosenStore::File(f) => {
                tracing::info!(path = %f.path().display(), "tokens kept in a file only the user can read");
            }
        }
    }
}

impl ChosenStore {
    /// The value kept in the chosen store (`None` when there is none), for apps that keep
    /// more than the session ([`FileStore::load_value`], [`KeyringStore::load_value`]).
    pub fn load_value<T: DeserializeOwned>(&self) -> Result<Option<T>, NativeError> {
        match self {
            #[cfg(feature = "keyring")]
            ChosenStore::Keyring(k) => k.load_value(),
            ChosenStore::File(f) => f.load_value(),
        }
    }

    /// Replaces the value kept in the chosen store.
    pub fn save_value<T: Serialize>(&self, value: &T) -> Result<(), NativeError> {
        match self {
            #[cfg(feature = "keyring")]
            ChosenStore::Keyring(k) => k.save_value(value),
            ChosenStore::File(f) => f.save_value(value),
        }
    }
}

impl TokenStore for ChosenStore {
    fn load(&self) -> Result<Option<NativeSession>, NativeError> {
        self.inner().load()
    }
    fn save(&self, session: &NativeSession) -> Result<(), NativeError> {
        self.inner().save(session)
    }
    fn clear(&self) -> Result<(), NativeError> {
        self.inner().clear()
    }
}
