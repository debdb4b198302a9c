//! The offline emulator mode's state, kept in the data directory so that a developer's
//! sign-in and device grants survive `cargo run` restarts: the development cookie key,
//! and the emulator's port and client id (cookies and grants are bound to the issuer and
//! client id they were sealed for).
//!
//! Only in the offline mode (no `IDME_CLIENT_ID`; `IDME_COOKIE_KEYS` is refused there): a
//! configured app never reads this file. It is written with owner-only permissions.

use std::path::{Path, PathBuf};

use idme_core::CookieKeys;

use crate::StartError;

/// The file in the data directory.
const FILE: &str = "offline-emulator.json";

/// What the offline mode keeps between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OfflineState {
    /// The development cookie key (32 random bytes).
    key: [u8; 32],
    /// The emulator's last port (0: none yet).
    pub(crate) port: u16,
    /// The emulator's client id.
    pub(crate) client_id: String,
}

impl OfflineState {
    /// The state saved in `dir`, or a new one (a random key, no port yet, `client_id`)
    /// when there is none or it cannot be read.
    pub(crate) fn load(dir: &Path, client_id: &str) -> Self {
        std::fs::read_to_string(dir.join(FILE))
            .ok()
            .and_then(|text| Self::parse(&text))
            .unwrap_or_else(|| OfflineState {
                key: rand::random(),
                port: 0,
                client_id: client_id.to_owned(),
            })
    }

    fn parse(text: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let hex = v["cookie_key"].as_str()?;
        let mut key = [0u8; 32];
        if hex.len() != 64 {
            return None;
        }
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(OfflineState {
            key,
            port: u16::try_from(v["port"].as_u64()?).ok()?,
            client_id: v["client_id"].as_str()?.to_owned(),
        })
    }

    /// The development cookie key.
    pub(crate) fn cookie_keys(&self) -> Result<CookieKeys, StartError> {
        Ok(CookieKeys::from_masters([self.key])?)
    }

    /// Writes the state to `dir` (created if missing), readable by its owner only.
    pub(crate) fn save(&self, dir: &Path) -> Result<PathBuf, StartError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("the data directory {}: {e}", dir.display()))?;
        let key: String = self.key.iter().map(|b| format!("{b:02x}")).collect();
        let text = serde_json::json!({
            "cookie_key": key,
            "port": self.port,
            "client_id": self.client_id,
        })
        .to_string();
        let path = dir.join(FILE);
        write_private(&path, text.as_bytes())
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(path)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_kept_between_runs() {
        let dir = std::env::temp_dir().join(format!("idme-offline-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = OfflineState::load(&dir, "testkit-client-a");
        assert_eq!(
            (first.port, first.client_id.as_str()),
            (0, "testkit-client-a")
        );
        let mut saved = first.clone();
        saved.port = 41234;
        saved.save(&dir.join("nested")).unwrap();
        let again = OfflineState::load(&dir.join("nested"), "testkit-client-b");
        assert_eq!(again, saved, "the same key, port and client id");
        assert!(again.cookie_keys().is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join("nested").join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // An unreadable file is replaced by a new state, not an error.
        std::fs::write(dir.join("nested").join(FILE), "{not json").unwrap();
        let fresh = OfflineState::load(&dir.join("nested"), "testkit-client-c");
        assert_ne!(fresh.key, saved.key);
        assert_eq!(fresh.client_id, "testkit-client-c");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
