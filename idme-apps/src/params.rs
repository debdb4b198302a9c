//! The parameters of a form body or a query, as the endpoints read them: decoded, each
//! name at most once (RFC 6749 §3.1), and a bounded number of them.

use std::borrow::Cow;

/// Parameters a request may carry at most. The largest request here (`/auth/authorize`)
/// has eight; a request with more is refused before any is looked at, which also bounds
/// the duplicate check (a scan, cheaper than hashing for a handful of names).
const MAX_PARAMS: usize = 32;

/// A form body's or a query's parameters, decoded; a value that needed no decoding is
/// borrowed from the request (a device's poll allocates nothing for its code).
#[derive(Debug, Default)]
pub(crate) struct Params<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Params<'a> {
    /// The parameters of `input` (`application/x-www-form-urlencoded`); `None` when a
    /// name repeats or there are more than [`MAX_PARAMS`].
    pub(crate) fn parse(input: &'a [u8]) -> Option<Self> {
        let mut out: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(input) {
            if out.len() == MAX_PARAMS || out.iter().any(|(seen, _)| *seen == name) {
                return None;
            }
            out.push((name, value));
        }
        Some(Self(out))
    }

    /// The value of `name`, if present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }

    /// Whether `name` is present, even empty.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_borrows_what_needs_no_decoding() {
        let p = Params::parse(b"grant_type=urn%3Aietf&device_code=abc&empty=").expect("a form");
        assert_eq!(p.get("grant_type"), Some("urn:ietf"));
        assert_eq!(p.get("device_code"), Some("abc"));
        assert!(matches!(p.0[1].1, Cow::Borrowed(_)));
        assert_eq!(p.get("empty"), None, "an empty value is no value");
        assert!(p.contains("empty"));
        assert!(!p.contains("missing"));
    }

    #[test]
    fn a_repeated_name_is_refused_even_when_encoded_differently() {
        assert!(Params::parse(b"a=1&a=2").is_none());
        assert!(Params::parse(b"client_id=x&client%5Fid=y").is_none());
        assert!(Params::parse(b"a=1&b=2").is_some());
    }

    #[test]
    fn more_than_the_bound_is_refused() {
        let body = |n: usize| {
            (0..n)
                .map(|i| format!("p{i}=v"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert!(Params::parse(body(MAX_PARAMS).as_bytes()).is_some());
        assert!(Params::parse(body(MAX_PARAMS + 1).as_bytes()).is_none());
    }
}
