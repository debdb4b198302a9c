//! Opening the system browser at the authorization URL (RFC 8252 §6: an external user
//! agent, never an embedded web view).

use std::fmt;
use std::process::{Command, Stdio};
use std::sync::Arc;

use crate::error::NativeError;

/// A function that opens a URL.
type OpenFn = dyn Fn(&str) -> std::io::Result<()> + Send + Sync;

/// How [`NativeClient::login`](crate::NativeClient::login) shows the authorization URL.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum BrowserOpener {
    /// The command in the `BROWSER` environment variable, which receives the URL as its
    /// last argument (`%s` in it is replaced instead); without it the platform opener:
    /// `xdg-open`, `open` on macOS, `cmd /c start` on Windows.
    #[default]
    System,
    /// No browser (an SSH session): prints `Open this URL to sign in: <url>` on stderr
    /// and waits for the redirect.
    PrintUrl,
    /// A command in the form of `BROWSER` (words split on whitespace, the URL as the last
    /// argument or in place of `%s`), whatever the environment says.
    Command(String),
    /// A function of the application's (a test's scripted browser, a GUI's own opener).
    Custom(Arc<OpenFn>),
}

impl fmt::Debug for BrowserOpener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::System => "System",
            Self::PrintUrl => "PrintUrl",
            Self::Command(_) => "Command",
            Self::Custom(_) => "Custom",
        })
    }
}

impl BrowserOpener {
    /// A custom opener.
    pub fn custom(open: impl Fn(&str) -> std::io::Result<()> + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(open))
    }

    /// Shows `url` to the person.
    pub(crate) fn open(&self, url: &str) -> Result<(), NativeError> {
        match self {
            Self::PrintUrl => {
                eprintln!("Open this URL to sign in: {url}");
                Ok(())
            }
            Self::Custom(open) => open(url).map_err(|e| NativeError::Browser(e.to_string())),
            Self::Command(command) => spawn(browser_command(command, url)?),
            Self::System => {
                let browser = std::env::var("BROWSER")
                    .ok()
                    .filter(|b| !b.trim().is_empty());
                let command = match browser {
                    Some(b) => browser_command(&b, url)?,
                    None => platform_command(url),
                };
                spawn(command)
            }
        }
    }
}

/// The `BROWSER` command: words split on whitespace (the first entry of a `:`-separated
/// list), the URL replacing `%s` or appended as the last argument. No shell is involved.
fn browser_command(browser: &str, url: &str) -> Result<Command, NativeError> {
    let first = browser.split(':').next().unwrap_or(browser);
    let mut words = first.split_whitespace();
    let program = words
        .next()
        .ok_or_else(|| NativeError::Browser("BROWSER is empty".into()))?;
    let mut command = Command::new(program);
    let mut placed = false;
    for word in words {
        if word.contains("%s") {
            command.arg(word.replace("%s", url));
            placed = true;
        } else {
            command.arg(word);
        }
    }
    if !placed {
        command.arg(url);
    }
    Ok(command)
}

fn platform_command(url: &str) -> Command {
    if cfg!(target_os = "macos") {
        let mut c = Command::new("open");
        c.arg(url);
        c
    } else if cfg!(windows) {
        let mut c = Command::new("cmd");
        // `start` takes a window title first; `^&` keeps cmd from splitting the query.
        c.args(["/c", "start", ""]).arg(url.replace('&', "^&"));
        c
    } else {
        let mut c = Command::new("xdg-open");
        c.arg(url);
        c
    }
}

/// Starts the opener without waiting for the browser; its stdout never mixes with the
/// app's. The child is reaped on a thread of its own.
fn spawn(mut command: Command) -> Result<(), NativeError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| NativeError::Browser(format!("{program}: {e}")))?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(c: &Command) -> Vec<String> {
        std::iter::once(c.get_program())
            .chain(c.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_url_is_the_last_argument_or_replaces_percent_s() {
        let u = "http://x/?a=1&b=2";
        assert_eq!(
            args(&browser_command("firefox", u).unwrap()),
            ["firefox", u]
        );
        assert_eq!(
            args(&browser_command("chromium --headless:firefox", u).unwrap()),
            ["chromium", "--headless", u]
        );
        assert_eq!(
            args(&browser_command("w3m -o x=%s -dump", u).unwrap()),
            ["w3m", "-o", &format!("x={u}"), "-dump"]
        );
        assert!(browser_command("  ", u).is_err());
    }
}
