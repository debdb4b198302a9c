//! A bearer request's user (RFC 6750 §2.1: the `Authorization` header only, never the
//! query string), and the `401`/`403` a bearer client gets.

use serde_json::json;

use super::tokens;
use crate::claims::IdmeUser;
use crate::error::{Error, Unauthenticated};
use crate::reply::Reply;
use crate::state::Inner;

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

/// The user of an app access token, at the engine's time.
pub(crate) async fn authenticate(inner: &Inner, token: &str) -> Result<IdmeUser, Error> {
    let Some(apps) = &inner.apps else {
        return Err(Unauthenticated::InvalidToken.into());
    };
    let now = inner.config.clock.now();
    match tokens::check_access(apps, &inner.config.cookie_keys, token, now).await? {
        Some((id, family)) => {
            Ok(family
                .person
                .user(&id, family.created_at, family.access_expires_at))
        }
        None => Err(Unauthenticated::InvalidToken.into()),
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

/// Marks a bearer client's `403` (missing verification) as RFC 6750's `insufficient_scope`.
pub(crate) fn insufficient_scope(mut reply: Reply) -> Reply {
    reply.headers.push((
        "www-authenticate",
        "Bearer error=\"insufficient_scope\", error_description=\"The person has not verified what this resource requires\"".into(),
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
