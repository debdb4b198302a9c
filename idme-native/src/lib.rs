//! Sign in with ID.me from desktop and command-line apps (OAuth 2.0 for Native Apps,
//! RFC 8252): the system browser, a loopback redirect on an ephemeral port, PKCE, and the
//! very checks of the web engine ([`idme_core`]): no copy of the protocol.
//!
//! - [`NativeClient`]: `login()`, `session()`, `refresh()`, `logout()`;
//! - [`BrowserOpener`]: the system browser (`BROWSER`, `xdg-open`, `open`, `start`), a
//!   printed URL for SSH sessions, or a function of yours;
//! - [`TokenStore`]: where the tokens live between runs; `KeyringStore` (the OS keyring,
//!   feature `keyring`, on by default), [`FileStore`] (a `0600` file) and [`MemoryTokenStore`]
//!   come with the crate, and [`StoreChoice`] picks the keyring where one works, else
//!   the file; their `load_value`/`save_value` keep other values beside the session (the
//!   tokens an app's own server issued, for example);
//! - [`NativeError`]: every failure, typed, with a message for the person.
//!
//! Mobile apps with a private-use scheme redirect (`com.example.app:/oauth2redirect`)
//! drive [`idme_core::Idme::start_native_login`] and
//! [`finish_native_login`](idme_core::Idme::finish_native_login) themselves.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod browser;
mod choice;
mod client;
mod error;
#[cfg(feature = "keyring")]
mod keyring_store;
mod listener;
mod store;

pub use browser::BrowserOpener;
pub use choice::{ChosenStore, StoreChoice, token_account};
pub use client::{DEFAULT_TIMEOUT, NativeClient, builder_from_lookup};
pub use error::{KeyringFailure, NativeError};
pub use idme_core::native::NativeSession;
/// The keyring crates' core (`CredentialStore`, the in-memory `mock` store), so that a
/// store handed to [`KeyringStore::in_store`] is of this crate's version.
#[cfg(feature = "keyring")]
pub use keyring_core;
#[cfg(feature = "keyring")]
pub use keyring_store::KeyringStore;
#[allow(deprecated)]
pub use store::{FileStore, MemoryStore, MemoryTokenStore, TokenStore};
