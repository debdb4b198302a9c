//! Where a native app keeps its tokens between runs: a file only the user can read
//! ([`FileStore`]), memory ([`MemoryTokenStore`]), or the app's own [`TokenStore`] (an OS
//! keyring, for example).

use std::fmt;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use idme_core::native::NativeSession;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::NativeError;

/// The most a token file may weigh (a session with claims and verification is a few KB).
const MAX_FILE: u64 = 1024 * 1024;

/// Keeps the signed-in session of a native app.
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored session, or `None` when nobody is signed in.
    fn load(&self) -> Result<Option<NativeSession>, NativeError>;
    /// Replaces the stored session.
    fn save(&self, session: &NativeSession) -> Result<(), NativeError>;
    /// Forgets the stored session (nothing stored is not an error).
    fn clear(&self) -> Result<(), NativeError>;
}

/// A session kept in memory only: gone when the process ends.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    session: Mutex<Option<NativeSession>>,
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Result<Option<NativeSession>, NativeError> {
        Ok(self.lock().clone())
    }
    fn save(&self, session: &NativeSession) -> Result<(), NativeError> {
        *self.lock() = Some(session.clone());
        Ok(())
    }
    fn clear(&self) -> Result<(), NativeError> {
        *self.lock() = None;
        Ok(())
    }
}

/// Renamed [`MemoryTokenStore`] (not to be confused with `idme_core::MemoryStore`, a
/// store of web sessions); this alias remains for one release.
#[deprecated(note = "renamed `MemoryTokenStore`")]
pub type MemoryStore = MemoryTokenStore;

impl MemoryTokenStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<NativeSession>> {
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A JSON file readable and writable only by the user (mode `0600` on Unix, in a `0700`
/// directory it creates), replaced atomically: written beside it, then renamed over it.
/// On Unix, a file others can read is refused rather than trusted.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `tokens.json` in the user's data directory for `app`: `$XDG_DATA_HOME/<app>` or
    /// `~/.local/share/<app>` on Linux, `~/Library/Application Support/<app>` on macOS,
    /// `%APPDATA%\<app>` on Windows.
    pub fn in_data_dir(app: &str) -> Result<Self, NativeError> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let base = if cfg!(windows) {
            env("APPDATA")
        } else if cfg!(target_os = "macos") {
            env("HOME").map(|h| h.join("Library/Application Support"))
        } else {
            env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local/share")))
        };
        let base = base.ok_or_else(|| {
            NativeError::Store("no home directory: set a token file explicitly".into())
        })?;
        Ok(Self::new(base.join(app).join("tokens.json")))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, what: &str, e: impl fmt::Display) -> NativeError {
        NativeError::Store(format!("{what} {}: {e}", self.path.display()))
    }
}

impl FileStore {
    /// The value kept in the file (`None` when there is no file), for apps that keep
    /// more than the session (tokens an app's own server issued, for example); the
    /// session's [`TokenStore::load`] is this with a [`NativeSession`].
    pub fn load_value<T: DeserializeOwned>(&self) -> Result<Option<T>, NativeError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.fail("cannot read", e)),
        };
        let meta = file.metadata().map_err(|e| self.fail("cannot read", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(self.fail(
                    "refusing",
                    "other users can read it (run `chmod 600` on it or sign in again)",
                ));
            }
        }
        if meta.len() > MAX_FILE {
            return Err(self.fail("refusing", "the file is too large"));
        }
        let mut text = String::new();
        file.take(MAX_FILE)
            .read_to_string(&mut text)
            .map_err(|e| self.fail("cannot read", e))?;
        // The parser's message may quote the file; say only where it failed.
        serde_json::from_str(&text).map(Some).map_err(|e| {
            self.fail(
                "unreadable",
                format!("not a saved session (line {}); sign in again", e.line()),
            )
        })
    }

    /// Replaces the file's value, atomically, in a file only the user can read.
    pub fn save_value<T: Serialize>(&self, value: &T) -> Result<(), NativeError> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        create_private_dir(&dir).map_err(|e| self.fail("cannot create the directory of", e))?;
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let json = serde_json::to_vec(value).map_err(|e| self.fail("cannot write", e))?;
        let written = (|| {
            let mut file = private_file(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.fail("cannot write", e));
        }
        Ok(())
    }

    /// Deletes the file (no file is not an error).
    pub fn clear_value(&self) -> Result<(), NativeError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.fail("cannot delete", e)),
        }
    }
}

impl TokenStore for FileStore {
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

/// A new file only the user can read and write, created with that mode (never widened
/// first); an existing one (a stale temporary file) is replaced.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}
