//! The tokens an app's own server issued to this CLI (`device-login --app`), and where they
//! are kept: beside the ID.me session of `login`, in the same kind of store, one entry per
//! app base URL so that they never replace that session.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use idme_native::{ChosenStore, FileStore, KeyringStore};
use serde::{Deserialize, Serialize};
use url::Url;

/// How long before its expiry an access token is refreshed rather than sent.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

/// An app's base URL, checked: `http(s)://host[:port][/path]`, no credentials, query or
/// fragment; plain `http` only on loopback (a bearer token never crosses a network in clear).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppUrl(String);

impl AppUrl {
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw.trim()).map_err(|e| format!("--app {raw}: not a URL ({e})"))?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(format!(
                    "--app {raw}: plain http is only for loopback addresses; use https"
                ));
            }
            _ => return Err(format!("--app {raw}: the app's URL is http(s)://…")),
        }
        if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
            return Err(format!("--app {raw}: a host, and no user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "--app {raw}: the app's base URL, without query or fragment"
            ));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The app's endpoint at `path` (which starts with `/`).
    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    /// The base URL with every character but ASCII letters, digits, `.` and `-` written
    /// `_XX`: a file name that names one app only.
    fn file_stem(&self) -> String {
        let mut out = String::with_capacity(self.0.len() * 2);
        for b in self.0.bytes() {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("_{b:02X}"));
            }
        }
        out
    }
}

impl fmt::Display for AppUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the app issued: never shown (`Debug` prints no token).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct AppTokens {
    /// The client id the tokens were issued to (refresh and revoke send it).
    pub(crate) client_id: String,
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    /// Seconds since the Unix epoch; `None` when the app did not say.
    pub(crate) expires_at: Option<u64>,
    /// The policies the app granted.
    pub(crate) scope: Option<String>,
}

impl fmt::Debug for AppTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppTokens")
            .field("client_id", &self.client_id)
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl AppTokens {
    /// `expires_in` from now, when given.
    pub(crate) fn expiry_after(expires_in: Option<Duration>) -> Option<u64> {
        expires_in.map(|d| now_secs().saturating_add(d.as_secs()))
    }

    /// Whether the access token is expired, or about to be (an unknown expiry is not).
    pub(crate) fn access_expired(&self, now: u64) -> bool {
        self.expires_at
            .is_some_and(|at| now.saturating_add(EXPIRY_MARGIN.as_secs()) >= at)
    }
}

/// Where the tokens of one app are kept.
#[derive(Debug)]
pub(crate) struct AppTokenStore {
    store: ChosenStore,
}

impl AppTokenStore {
    /// With `token_file` (`IDME_TOKEN_FILE`): a file beside it,
    /// `<stem>.app-<app>.json`. Else the OS keyring where one answers (service `app_name`,
    /// account `app <url>`), else `app-<app>.json` in the user's data directory.
    pub(crate) fn open(
        app_name: &str,
        app: &AppUrl,
        token_file: Option<&Path>,
    ) -> Result<Self, String> {
        let store = match token_file {
            Some(file) => ChosenStore::File(FileStore::new(beside(file, app))),
            None => {
                let file = || {
                    let login = FileStore::in_data_dir(app_name)?;
                    let dir = login.path().parent().map(Path::to_path_buf);
                    Ok(FileStore::new(
                        dir.unwrap_or_default()
                            .join(format!("app-{}.json", app.file_stem())),
                    ))
                };
                let keyring = KeyringStore::platform(app_name, &format!("app {app}"));
                ChosenStore::keyring_or_file(keyring, file).map_err(|e| e.to_string())?
            }
        };
        Ok(Self { store })
    }

    pub(crate) fn load(&self) -> Result<Option<AppTokens>, String> {
        self.store.load_value().map_err(|e| e.to_string())
    }

    pub(crate) fn save(&self, tokens: &AppTokens) -> Result<(), String> {
        self.store.save_value(tokens).map_err(|e| e.to_string())
    }

    pub(crate) fn clear(&self) -> Result<(), String> {
        idme_native::TokenStore::clear(&self.store).map_err(|e| e.to_string())
    }
}

/// `dir/tokens.json` → `dir/tokens.app-<app>.json`.
fn beside(file: &Path, app: &AppUrl) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "tokens".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}.app-{}.json", app.file_stem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_urls_are_checked_and_normalised() {
        let ok = |raw: &str| AppUrl::parse(raw).map(|u| u.to_string());
        assert_eq!(
            ok("http://127.0.0.1:8080/"),
            Ok("http://127.0.0.1:8080".into())
        );
        assert_eq!(ok("http://[::1]:8080"), Ok("http://[::1]:8080".into()));
        assert_eq!(
            ok("https://app.example/base/"),
            Ok("https://app.example/base".into())
        );
        assert_eq!(
            ok("http://localhost:3000"),
            Ok("http://localhost:3000".into())
        );
        for bad in [
            "http://app.example",
            "ftp://127.0.0.1",
            "https://user:pw@app.example",
            "https://app.example/?x=1",
            "https://app.example/#f",
            "not a url",
            "",
        ] {
            assert!(AppUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_app_has_its_own_file_beside_the_session() {
        let a = AppUrl::parse("http://127.0.0.1:8080").unwrap();
        let b = AppUrl::parse("http://127.0.0.1:8081").unwrap();
        let file = Path::new("/d/tokens.json");
        assert_eq!(
            beside(file, &a),
            Path::new("/d/tokens.app-http_3A_2F_2F127.0.0.1_3A8080.json")
        );
        assert_ne!(beside(file, &a), beside(file, &b));
        assert_ne!(beside(file, &a), file);
    }

    #[test]
    fn debug_shows_no_token() {
        let tokens = AppTokens {
            client_id: "c".into(),
            access_token: "AT-secret".into(),
            refresh_token: Some("RT-secret".into()),
            expires_at: Some(100),
            scope: None,
        };
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(tokens.access_expired(100 - 29));
        assert!(!tokens.access_expired(100 - 31));
    }
}
