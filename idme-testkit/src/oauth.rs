//! OAuth 2.0 / OpenID Connect vocabulary: response types, response modes, error responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A parsed `response_type`: which artefacts the authorization response carries. Word order does not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseType {
    pub(crate) code: bool,
    pub(crate) id_token: bool,
    pub(crate) token: bool,
}

impl ResponseType {
    /// Parses a space-separated `response_type`; `None` for an unsupported combination (unknown or repeated
    /// words, or none at all).
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let mut rt = ResponseType {
            code: false,
            id_token: false,
            token: false,
        };
        let mut any = false;
        for word in value.split(' ').filter(|w| !w.is_empty()) {
            let slot = match word {
                "code" => &mut rt.code,
                "id_token" => &mut rt.id_token,
                "token" => &mut rt.token,
                _ => return None,
            };
            if *slot {
                return None;
            }
            *slot = true;
            any = true;
        }
        any.then_some(rt)
    }

    /// Whether tokens travel in the front channel (then `query` mode is not allowed).
    pub(crate) fn has_front_channel_tokens(&self) -> bool {
        self.id_token || self.token
    }

    /// The response mode OAuth/OIDC prescribes when the client names none.
    pub(crate) fn default_mode(&self) -> ResponseMode {
        if self.has_front_channel_tokens() {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        }
    }
}

/// How the authorization response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseMode {
    /// Parameters in the redirect URI's query string.
    Query,
    /// Parameters in the redirect URI's fragment.
    Fragment,
    /// An auto-submitting HTML form POSTed to the redirect URI.
    FormPost,
}

impl ResponseMode {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "query" => Some(ResponseMode::Query),
            "fragment" => Some(ResponseMode::Fragment),
            "form_post" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }
}

/// A JSON OAuth error (`{"error","error_description"}`) with `Cache-Control: no-store`.
pub(crate) fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    no_store(&mut response);
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if error == "invalid_client" {
            r#"Basic realm="idme-testkit""#.to_owned()
        } else {
            format!(r#"Bearer realm="idme-testkit", error="{error}""#)
        };
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

/// Marks a response as not cacheable, as RFC 6749 requires for anything carrying tokens.
pub(crate) fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_in_any_order() {
        for value in [
            "code",
            "id_token",
            "token",
            "code id_token",
            "token code",
            "id_token token code",
        ] {
            assert!(ResponseType::parse(value).is_some(), "{value}");
        }
        let hybrid =
            ResponseType::parse("id_token code").map(|rt| (rt.code, rt.id_token, rt.token));
        assert_eq!(hybrid, Some((true, true, false)));
        for value in ["", "none", "code code", "code  bogus", "Code"] {
            assert!(ResponseType::parse(value).is_none(), "{value}");
        }
    }
}
