//! Bearer requests (RFC 6750): the token of an `Authorization: Bearer` header (never the
//! query string), and the `401`/`403` answers a bearer client gets, with their
//! `WWW-Authenticate` challenges.
//!
//! Which bearer tokens count is the extensions' call
//! ([`Extension::recognizes_bearer`](crate::extension::Extension::recognizes_bearer)): a
//! token none of them recognizes (an API gateway's, say) is not this application's, and the
//! request is authenticated by its session cookie as if the header were absent. A token one
//! of them recognizes decides alone: when it fails, the request fails, cookie or not.

use serde_json::json;

use crate::error::Error;
use crate::reply::Reply;
use crate::verification::Policy;

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive);
/// `None` for any other scheme. An empty token is still a (bad) bearer credential.
pub(crate) fn credential(authorization: &str) -> Option<&str> {
    let value = authorization.trim();
    let scheme = value.get(..6)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let rest = &value[6..];
    match rest.chars().next() {
        None => Some(""),
        Some(c) if c == ' ' || c == '\t' => Some(rest.trim()),
        Some(_) => None,
    }
}

/// The answer to a bearer request that failed: `401` with `WWW-Authenticate: Bearer
/// error="invalid_token"` for a bad, expired or revoked token; `503` for an outage.
pub(crate) fn rejection(error: &Error) -> Reply {
    let status = error.status().as_u16();
    let mut reply = Reply::json(
        status,
        &json!({
            "error": if status == 401 { "invalid_token" } else { error.code() },
            "error_description": error.public_message(),
        }),
    );
    if status == 401 {
        reply.headers.push((
            "www-authenticate",
            "Bearer error=\"invalid_token\", error_description=\"The access token is invalid, expired or revoked\"".into(),
        ));
    }
    reply
}

/// The `401` of an API client that presented no credentials where bearer tokens are
/// accepted: the challenge without an error code (RFC 6750 §3.1), and the JSON of the
/// other bearer errors (`error`, `error_description`; `message` too, as cookie clients
/// get it).
pub(crate) fn no_credentials(error: &Error) -> Reply {
    let mut reply = Reply::json(
        401,
        &json!({
            "error": error.code(),
            "error_description": error.public_message(),
            "message": error.public_message(),
        }),
    );
    reply.headers.push(("www-authenticate", "Bearer".into()));
    reply
}

/// Marks a bearer client's `403` as RFC 6750's `insufficient_scope`, naming the policy
/// the resource needs as a client asks for it in `scope` (`military`, `ial2`).
pub(crate) fn insufficient_scope(mut reply: Reply, policy: &Policy) -> Reply {
    let scope = match policy {
        Policy::Ial2 => "ial2",
        Policy::Loa3 => "loa3",
        other => other.handle(),
    };
    reply.headers.push((
        "www-authenticate",
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\", error_description=\"The token was not granted, or the person has not verified, what this resource requires\""
        ),
    ));
    reply
}

#[cfg(test)]
mod tests {
    use super::credential;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_others_are_ignored() {
        assert_eq!(credential("Bearer abc.def"), Some("abc.def"));
        assert_eq!(credential("bEaReR   abc.def "), Some("abc.def"));
        assert_eq!(credential("Bearer"), Some(""));
        assert_eq!(credential("Basic dXNlcjpwYXNz"), None);
        assert_eq!(credential("Bearerabc"), None);
        assert_eq!(credential(""), None);
    }
}
