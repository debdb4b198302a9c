//! Step two: the authorization response as the browser delivered it, from the query
//! (`query` mode), or from a form POST (`form_post`, and `fragment` through the relay page).

use std::collections::HashMap;

use crate::error::CallbackRejected;

/// How the callback request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackMethod {
    /// `GET`: the `query` response mode, or the first hop of `fragment` (answered with the
    /// relay page).
    Get,
    /// `POST` with a form body: `form_post`, or `fragment` relayed by the page.
    Post,
}

/// The parts of a callback request the engine needs, in framework-neutral form.
///
/// Its `Debug` shows the method, the content type and the lengths of the query and body,
/// never their contents (codes, tokens, `state`).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct CallbackInput<'a> {
    /// The request method.
    pub method: CallbackMethod,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// The request body of a POST.
    pub body: &'a [u8],
    /// The `Content-Type` header of a POST.
    pub content_type: Option<&'a str>,
}

impl<'a> CallbackInput<'a> {
    /// A `GET` callback with its raw query string (without `?`).
    pub fn get(query: Option<&'a str>) -> Self {
        Self {
            method: CallbackMethod::Get,
            query,
            body: &[],
            content_type: None,
        }
    }

    /// A `POST` callback with its body and `Content-Type` header.
    pub fn post(content_type: Option<&'a str>, body: &'a [u8]) -> Self {
        Self {
            method: CallbackMethod::Post,
            query: None,
            body,
            content_type,
        }
    }
}

impl std::fmt::Debug for CallbackInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackInput")
            .field("method", &self.method)
            .field("query_len", &self.query.map(str::len))
            .field("body_len", &self.body.len())
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// The authorization response parameters, each present at most once (RFC 6749 §3.1).
/// Its `Debug` shows the parameter names only.
#[derive(Default)]
pub(crate) struct CallbackParams {
    params: HashMap<String, String>,
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.params.keys()).finish()
    }
}

impl CallbackParams {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Whether the response carries any success parameter (as opposed to only an error).
    pub(crate) fn has_response(&self) -> bool {
        ["code", "id_token", "access_token"]
            .iter()
            .any(|p| self.get(p).is_some())
    }
}

/// Parses a form-urlencoded string; a repeated parameter is refused.
pub(crate) fn parse_form(data: &[u8]) -> Result<CallbackParams, CallbackRejected> {
    let mut params = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(data) {
        if params.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(CallbackRejected::Malformed);
        }
    }
    Ok(CallbackParams { params })
}

/// The parameters from whichever channel the request used.
pub(crate) fn read(input: &CallbackInput<'_>) -> Result<CallbackParams, CallbackRejected> {
    match input.method {
        CallbackMethod::Get => parse_form(input.query.unwrap_or("").as_bytes()),
        CallbackMethod::Post => {
            let form = input.content_type.is_some_and(|ct| {
                ct.split(';').next().is_some_and(|m| {
                    m.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
            if !form {
                return Err(CallbackRejected::Malformed);
            }
            parse_form(input.body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        assert_eq!(
            parse_form(b"code=a&code=b").unwrap_err(),
            CallbackRejected::Malformed
        );
        let p = parse_form(b"code=a&state=s%20t&empty=").unwrap();
        assert_eq!(p.get("state"), Some("s t"));
        assert_eq!(p.get("empty"), None);
        assert!(p.has_response());
    }

    #[test]
    fn post_needs_a_form_body() {
        let input = CallbackInput {
            method: CallbackMethod::Post,
            query: None,
            body: b"code=a",
            content_type: Some("application/json"),
        };
        assert_eq!(read(&input).unwrap_err(), CallbackRejected::Malformed);
        let input = CallbackInput {
            content_type: Some("application/x-www-form-urlencoded; charset=UTF-8"),
            ..input
        };
        assert_eq!(read(&input).unwrap().get("code"), Some("a"));
    }

    #[test]
    fn debug_shows_no_parameter_value() {
        let input = CallbackInput {
            method: CallbackMethod::Post,
            query: Some("code=C0DE&state=ST4TE"),
            body: b"id_token=T0KEN",
            content_type: Some("application/x-www-form-urlencoded"),
        };
        let params = parse_form(b"code=C0DE&state=ST4TE").unwrap();
        for shown in [format!("{input:?}"), format!("{params:?}")] {
            for secret in ["C0DE", "ST4TE", "T0KEN"] {
                assert!(!shown.contains(secret), "{shown}");
            }
        }
        assert!(format!("{params:?}").contains("state"));
    }
}
