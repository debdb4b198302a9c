//! Where the browser comes back to after signing in: `return_to` kept only when it is a
//! local path (never an open redirect), and the login route asking for a policy.

use url::Url;

use crate::config::IdmeConfig;
use crate::verification::Policy;

/// The login route asking ID.me for `policy`, coming back to `return_to` (kept only if
/// local, as the login keeps it).
pub(crate) fn verify_url(config: &IdmeConfig, policy: &Policy, return_to: &str) -> String {
    let return_to = sanitize_return_to(Some(return_to));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("policy", policy.handle())
        .append_pair("return_to", &return_to)
        .finish();
    format!("{}?{query}", config.paths.login)
}

/// The longest `return_to` kept (bytes); a longer one becomes `/`.
pub const MAX_RETURN_TO: usize = 2048;

/// Keeps `return_to` only if it is a local path: it starts with one `/`, is not
/// protocol-relative (`//host`, `/\host`), holds no backslash, control character or
/// whitespace (browsers strip tabs and newlines, turning `/\t/evil` into `//evil`), and is
/// not absurdly long. Anything else becomes `/`, so the login route can never be turned
/// into an open redirect.
pub(crate) fn sanitize_return_to(candidate: Option<&str>) -> String {
    let Some(path) = candidate else {
        return "/".into();
    };
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= MAX_RETURN_TO
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
        // Belt and braces: resolved against a placeholder origin, it must stay there.
        && Url::parse("https://placeholder.invalid/")
            .and_then(|base| base.join(path))
            .is_ok_and(|u| u.host_str() == Some("placeholder.invalid"));
    if local { path.to_owned() } else { "/".into() }
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
}
