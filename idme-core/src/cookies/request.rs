//! The cookies of an incoming request.

use std::ops::Range;

use http::HeaderMap;

/// The cookies of an incoming request, parsed from its `Cookie` header(s). Adapters build it
/// from the raw header values, whatever their framework's header types are.
///
/// Built on every authenticated request, so it copies the header once and keeps offsets
/// into it rather than a string per cookie.
#[derive(Clone, Default)]
pub struct RequestCookies {
    raw: String,
    /// (name, value) ranges into `raw`.
    pairs: Vec<(Range<usize>, Range<usize>)>,
}

impl std::fmt::Debug for RequestCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: values are sealed sessions and must not reach logs.
        f.debug_list().entries(self.names()).finish()
    }
}

impl RequestCookies {
    /// Parses every `Cookie` header value (`a=1; b=2`). Malformed pairs are skipped.
    pub fn from_header_values<'a, I>(values: I) -> Self
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut raw = String::new();
        for v in values {
            if !raw.is_empty() {
                raw.push(';');
            }
            raw.push_str(v);
        }
        let base = raw.as_ptr() as usize;
        let span = |part: &str| {
            let start = part.as_ptr() as usize - base;
            start..start + part.len()
        };
        // `memchr`'s vectorised search rather than `str::split`'s word-at-a-time one: the
        // header of a signed-in request is mostly one 1.5 KB sealed value.
        let ends = memchr::memchr_iter(b';', raw.as_bytes()).chain([raw.len()]);
        let mut start = 0;
        let mut pairs = Vec::new();
        for end in ends {
            // `;` is ASCII, so both ends are character boundaries.
            if let Some((k, v)) = raw[start..end].trim().split_once('=') {
                pairs.push((span(k.trim()), span(v.trim().trim_matches('"'))));
            }
            start = end + 1;
        }
        Self { raw, pairs }
    }

    /// From an `http::HeaderMap` (axum, hyper, tower).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::from_header_values(
            headers
                .get_all(http::header::COOKIE)
                .iter()
                // UTF-8 validation (vectorised) rather than `to_str`'s byte-by-byte
                // visible-ASCII check: a signed-in request carries a 1.7 KB session cookie.
                .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok()),
        )
    }

    fn entries(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.pairs
            .iter()
            .map(|(k, v)| (&self.raw[k.clone()], &self.raw[v.clone()]))
    }

    fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries().map(|(k, _)| k)
    }

    /// The value of the first cookie called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The chunk indices (`name.N` → N) of the cookie `name` the request carries.
    pub(crate) fn chunk_indices<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.names().filter_map(move |k| {
            k.strip_prefix(name)?
                .strip_prefix('.')?
                .parse::<usize>()
                .ok()
        })
    }

    /// Whether any cookie name starts with `prefix`.
    pub(crate) fn any_with_prefix(&self, prefix: &str) -> bool {
        self.names().any(|k| k.starts_with(prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_split_at_every_semicolon_as_before() {
        let tricky = [
            "",
            ";",
            "a=1",
            "a=1;",
            ";a=1;;b=2",
            " a = 1 ; b=\"2\" ;c=;=d; e ; f=g=h",
            "lang=français;é=ü; s=x",
        ];
        for header in tricky {
            let parsed = RequestCookies::from_header_values([header, "z=9"]);
            let got: Vec<(&str, &str)> = parsed.entries().collect();
            let joined = format!("{header};z=9");
            let expected: Vec<(&str, &str)> = joined
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .map(|(k, v)| (k.trim(), v.trim().trim_matches('"')))
                .collect();
            assert_eq!(got, expected, "{header:?}");
        }
    }

    #[test]
    fn another_cookie_with_non_ascii_text_does_not_hide_the_session() {
        let mut headers = HeaderMap::new();
        headers.append(
            http::header::COOKIE,
            http::HeaderValue::from_bytes("lang=français; idme_session=sealed".as_bytes()).unwrap(),
        );
        let cookies = RequestCookies::from_headers(&headers);
        assert_eq!(cookies.get("idme_session"), Some("sealed"));
        // Bytes that are not UTF-8 still drop that header line, and only that one.
        headers.append(
            http::header::COOKIE,
            http::HeaderValue::from_bytes(b"broken=\xff\xfe").unwrap(),
        );
        let cookies = RequestCookies::from_headers(&headers);
        assert_eq!(cookies.get("idme_session"), Some("sealed"));
        assert_eq!(cookies.get("broken"), None);
    }
}
