//! Step one: the authorization request. Fresh `state`, `nonce` and PKCE verifier, sealed
//! with the return path into the pending-login cookie.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use url::Url;

use super::pending::{self, PendingLogin};
use crate::config::IdmeConfig;
use crate::cookies::{SameSite, SetCookie};
use crate::secret::{Nonce, PkceVerifier, State, random_token};

/// Options of one login.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoginOptions {
    /// Where to send the browser after sign-in: a local path, anything else becomes `/`.
    pub return_to: Option<String>,
}

impl LoginOptions {
    /// Default options: back to `/` after sign-in.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where to go after sign-in (checked with [`sanitize_return_to`]).
    pub fn return_to(mut self, path: impl Into<String>) -> Self {
        self.return_to = Some(path.into());
        self
    }
}

/// Keeps `return_to` only if it is a local path: it starts with one `/`, is not
/// protocol-relative (`//host`, `/\host`), holds no backslash, control character or
/// whitespace (browsers strip tabs and newlines, turning `/\t/evil` into `//evil`), and is
/// not absurdly long. Anything else becomes `/`, so the login route can never be turned
/// into an open redirect.
pub fn sanitize_return_to(candidate: Option<&str>) -> String {
    let Some(path) = candidate else {
        return "/".into();
    };
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 2048
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
        // Belt and braces: resolved against a placeholder origin, it must stay there.
        && Url::parse("https://placeholder.invalid/")
            .and_then(|base| base.join(path))
            .is_ok_and(|u| u.host_str() == Some("placeholder.invalid"));
    if local { path.to_owned() } else { "/".into() }
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The authorization URL and the pending-login cookie of a new login.
pub(crate) struct Started {
    pub(crate) url: Url,
    pub(crate) cookie: SetCookie,
}

/// Builds the authorization request against `authorization_endpoint`.
pub(crate) fn start(
    config: &IdmeConfig,
    authorization_endpoint: &str,
    options: &LoginOptions,
    now: u64,
) -> Result<Started, url::ParseError> {
    let state = State::new(random_token(32));
    let nonce = Nonce::new(random_token(32));
    let verifier = config.pkce.then(|| PkceVerifier::new(random_token(32)));
    let rt = config.response_type;
    let mode = config.response_mode;

    let mut url = Url::parse(authorization_endpoint)?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", config.redirect_uri.as_str())
            .append_pair("response_type", rt.as_str())
            .append_pair("scope", &config.scopes.join(" "))
            .append_pair("state", state.secret())
            .append_pair("nonce", nonce.secret());
        if mode != rt.default_mode() {
            q.append_pair("response_mode", mode.as_str());
        }
        if let Some(v) = &verifier {
            q.append_pair("code_challenge", &pkce_challenge(v.secret()))
                .append_pair("code_challenge_method", "S256");
        }
    }

    let name = pending::cookie_name(state.secret());
    let pending = PendingLogin {
        state,
        nonce,
        pkce_verifier: verifier,
        return_to: sanitize_return_to(options.return_to.as_deref()),
        created_at: now,
        response_type: rt,
        response_mode: mode,
    };
    let value = config.cookie_keys.seal(&name, &pending);
    // A form_post callback is a cross-site POST: only `SameSite=None` cookies come with
    // it, and browsers accept those only with `Secure`. Every other mode arrives by
    // top-level GET (or by the relay page's same-site POST), for which `Lax` suffices.
    // On plain-http loopback development `Secure` cannot be used (cookie jars refuse to
    // send it over http), so there the cookie stays `Lax`: that works when the provider
    // runs on the same loopback host, which is same-site whatever the port.
    let same_site = if mode == super::ResponseMode::FormPost && config.secure_cookies {
        SameSite::None
    } else {
        SameSite::Lax
    };
    let secure = config.secure_cookies;
    let cookie = SetCookie {
        name,
        value,
        path: config.paths.callback.clone(),
        max_age: config.login_timeout.as_secs() as i64,
        secure,
        same_site,
    };
    Ok(Started { url, cookie })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_is_limited_to_local_paths() {
        for good in ["/", "/me", "/a/b?c=d#e", "/%2F%2Fevil.example"] {
            assert_eq!(sanitize_return_to(Some(good)), good, "{good}");
        }
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            " /me",
            "/ok\u{0}",
        ] {
            assert_eq!(sanitize_return_to(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(sanitize_return_to(None), "/");
        assert_eq!(
            sanitize_return_to(Some(&format!("/{}", "a".repeat(3000)))),
            "/"
        );
    }

    #[test]
    fn pkce_challenge_is_base64url_sha256() {
        // Computed independently: base64url(sha256(verifier)) without padding (Python hashlib).
        assert_eq!(
            pkce_challenge("dBjftJeZ4CK-Vw1EaBOLxWG5PBxuKDgMbFAgKkSgU5E"),
            "c01upyI4ghiNOQ-5k-s-DHq4svy0WDUysZWMfqp-850"
        );
    }
}
