//! The offline emulator mode: with no `IDME_CLIENT_ID`, an example app signs in against
//! the built-in idme-testkit emulator. That is safe only on a developer's machine, so the
//! mode refuses to start beside any setting that belongs to a real deployment (a shared
//! cookie key, a session store, a real issuer or secret, an https redirect URI, a
//! non-loopback listen address): a session made against the emulator must never be
//! accepted, or planted, where real users are.

use std::fmt;
use std::net::SocketAddr;

/// The notice shown on every page served in emulator mode.
pub const EMULATOR_NOTICE: &str = "Offline emulator: this app signs in against the built-in \
    ID.me emulator (idme-testkit) with test personas, not against ID.me.";

/// A production setting found in emulator mode: the variable and why it is refused.
/// The message never repeats the variable's value (it may be a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionSetting {
    /// The environment variable, e.g. `IDME_COOKIE_KEYS`.
    pub variable: &'static str,
    /// Why it belongs to a real deployment.
    pub reason: &'static str,
}

impl fmt::Display for ProductionSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{var} is set ({reason}) but IDME_CLIENT_ID is not, so this app would sign in against \
             the built-in offline emulator; the emulator refuses to run beside production settings. \
             Set IDME_CLIENT_ID (with IDME_ISSUER and IDME_CLIENT_SECRET) to use ID.me, or unset {var} \
             to use the emulator.",
            var = self.variable,
            reason = self.reason,
        )
    }
}

impl std::error::Error for ProductionSetting {}

/// Checks the settings of an app about to start in emulator mode, read through `lookup`
/// (`std::env::var` in [`bootstrap`](crate::bootstrap)). Empty values count as unset.
///
/// Refused: `IDME_ISSUER`, `IDME_CLIENT_SECRET`, `IDME_COOKIE_KEYS`, an `IDME_SESSION_STORE`
/// other than the default `cookie`, an `https` `IDME_REDIRECT_URI`, and a `BIND_ADDR` that
/// is not a loopback `ip:port`.
///
/// # Errors
/// The first production setting found.
pub fn refuse_production_settings(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), ProductionSetting> {
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let refuse = |variable, reason| Err(ProductionSetting { variable, reason });
    if get("IDME_ISSUER").is_some() {
        return refuse("IDME_ISSUER", "it names a real provider");
    }
    if get("IDME_CLIENT_SECRET").is_some() {
        return refuse("IDME_CLIENT_SECRET", "it is a real client's secret");
    }
    if get("IDME_COOKIE_KEYS").is_some() {
        return refuse(
            "IDME_COOKIE_KEYS",
            "cookies sealed with shared keys could open on a production instance",
        );
    }
    if get("IDME_SESSION_STORE").is_some_and(|v| v != "cookie") {
        return refuse(
            "IDME_SESSION_STORE",
            "emulator sessions would be written to a shared session store",
        );
    }
    if get("IDME_REDIRECT_URI").is_some_and(|v| {
        v.get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }) {
        return refuse(
            "IDME_REDIRECT_URI",
            "an https redirect URI belongs to a deployed app",
        );
    }
    if let Some(bind) = get("BIND_ADDR") {
        let loopback = bind
            .parse::<SocketAddr>()
            .is_ok_and(|addr| addr.ip().is_loopback());
        if !loopback {
            return refuse(
                "BIND_ADDR",
                "the emulator mode listens on a loopback address only",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(vars: &[(&str, &str)]) -> Result<(), ProductionSetting> {
        refuse_production_settings(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn refused_for(vars: &[(&str, &str)]) -> &'static str {
        match check(vars) {
            Err(e) => e.variable,
            Ok(()) => panic!("{vars:?} was accepted"),
        }
    }

    #[test]
    fn nothing_configured_starts() {
        assert_eq!(check(&[]), Ok(()));
    }

    #[test]
    fn development_settings_start() {
        let dev = [
            ("BIND_ADDR", "127.0.0.1:3000"),
            ("IDME_REDIRECT_URI", "http://127.0.0.1:3000/auth/callback"),
            ("IDME_SESSION_STORE", "cookie"),
            ("IDME_TESTKIT_USER", "veteran"),
            ("IDME_ISSUER", "  "),
        ];
        assert_eq!(check(&dev), Ok(()));
        assert_eq!(check(&[("BIND_ADDR", "[::1]:8080")]), Ok(()));
    }

    #[test]
    fn each_production_setting_is_refused_by_name() {
        let cases: [(&str, &str); 9] = [
            ("IDME_ISSUER", "https://api.id.me/oidc"),
            ("IDME_CLIENT_SECRET", "s3cret"),
            (
                "IDME_COOKIE_KEYS",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            ),
            ("IDME_SESSION_STORE", "redis://127.0.0.1:6379/0"),
            ("IDME_REDIRECT_URI", "https://app.example/auth/callback"),
            ("IDME_REDIRECT_URI", "HTTPS://app.example/auth/callback"),
            ("BIND_ADDR", "0.0.0.0:3000"),
            ("BIND_ADDR", "192.0.2.10:3000"),
            ("BIND_ADDR", "[::]:3000"),
        ];
        for (var, value) in cases {
            assert_eq!(refused_for(&[(var, value)]), var, "{var}={value}");
        }
    }

    #[test]
    fn the_message_names_the_variable_and_never_its_value() {
        let secret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let err = check(&[("IDME_COOKIE_KEYS", secret)]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("IDME_COOKIE_KEYS"), "{msg}");
        assert!(msg.contains("IDME_CLIENT_ID"), "{msg}");
        assert!(!msg.contains(secret), "{msg}");
    }

    #[test]
    fn an_unparsable_bind_address_is_refused() {
        assert_eq!(refused_for(&[("BIND_ADDR", "example.com:80")]), "BIND_ADDR");
    }
}
