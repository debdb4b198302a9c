//! Sealed cookies: AEAD-encrypted with the cookie name, the issuer and the client id as
//! associated data (the `cookie` crate's private jar, AES-256-GCM), with a list of keys so
//! they can rotate.
//!
//! Also the plain [`SetCookie`] value the engine hands to adapters, and the parser for
//! incoming `Cookie` headers.

use std::ops::Range;

use base64::Engine as _;
use cookie::{Cookie, CookieJar, Key};
use http::HeaderMap;
use serde::{Serialize, de::DeserializeOwned};

/// Keys that seal cookies: the first seals, every key opens, so keys rotate without logging
/// anyone out.
///
/// The engine binds them to its issuer and client id: a value sealed by an app of another
/// issuer or client never opens, even with the same keys.
#[derive(Clone)]
pub struct CookieKeys {
    keys: Vec<Key>,
    /// The issuer and client id every sealed value is bound to (empty until bound).
    binding: std::sync::Arc<str>,
}

impl std::fmt::Debug for CookieKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CookieKeys([{} redacted])", self.keys.len())
    }
}

/// Why a cookie key list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieKeyError {
    /// An entry is not valid base64.
    #[error("key #{0} is not valid base64")]
    NotBase64(usize),
    /// An entry decodes to fewer than 32 bytes.
    #[error("key #{0} is shorter than 32 bytes")]
    TooShort(usize),
    /// The list is empty.
    #[error("no key given")]
    Empty,
}

impl CookieKeys {
    /// One fresh random key (cookies do not survive a restart).
    pub fn random() -> Self {
        Self {
            keys: vec![Key::generate()],
            binding: "".into(),
        }
    }

    /// Keys from master secrets of at least 32 bytes each; the first seals. Each is expanded
    /// with HKDF into the encryption key.
    pub fn from_masters<I, B>(masters: I) -> Result<Self, CookieKeyError>
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut keys = Vec::new();
        for (i, m) in masters.into_iter().enumerate() {
            let m = m.as_ref();
            if m.len() < 32 {
                return Err(CookieKeyError::TooShort(i + 1));
            }
            keys.push(Key::derive_from(m));
        }
        if keys.is_empty() {
            return Err(CookieKeyError::Empty);
        }
        Ok(Self {
            keys,
            binding: "".into(),
        })
    }

    /// Parses `IDME_COOKIE_KEYS`: comma-separated base64 (standard or URL-safe, padding
    /// optional) master keys of at least 32 bytes.
    pub fn from_base64_list(list: &str) -> Result<Self, CookieKeyError> {
        let mut masters = Vec::new();
        for (i, part) in list
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .enumerate()
        {
            let trimmed = part.trim_end_matches('=');
            let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(trimmed)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
                .map_err(|_| CookieKeyError::NotBase64(i + 1))?;
            masters.push(bytes);
        }
        Self::from_masters(masters)
    }

    /// The same keys, binding every value they seal or open to `issuer` and `client_id`
    /// (set once, by `IdmeBuilder::build`).
    pub(crate) fn bound_to(mut self, issuer: &str, client_id: &str) -> Self {
        // Length-prefixed, so no issuer/client split can collide with another.
        self.binding = format!("{}:{issuer}\0{}:{client_id}", issuer.len(), client_id.len()).into();
        self
    }

    /// The AEAD associated data of a value sealed under `name`: the name, then the
    /// binding, each length-prefixed.
    fn associated_data(&self, name: &str) -> String {
        format!("{}:{name}\0{}", name.len(), self.binding)
    }

    /// Seals `value` as JSON into a cookie value bound to `name` (and the binding).
    pub(crate) fn seal<T: Serialize>(&self, name: &str, value: &T) -> String {
        let json = serde_json::to_string(value).expect("serialising plain data cannot fail");
        let ad = self.associated_data(name);
        let mut jar = CookieJar::new();
        jar.private_mut(&self.keys[0])
            .add(Cookie::new(ad.clone(), json));
        jar.get(&ad)
            .map(|c| c.value().to_owned())
            .expect("the jar holds the cookie just added")
    }

    /// Opens a sealed value with any key; `None` if no key opens it (another name,
    /// issuer or client; tampered; retired key) or the JSON is not a `T`.
    pub(crate) fn open<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Option<T> {
        let ad = self.associated_data(name);
        for key in &self.keys {
            let mut jar = CookieJar::new();
            jar.add_original(Cookie::new(ad.clone(), sealed.to_owned()));
            if let Some(plain) = jar.private(key).get(&ad) {
                return serde_json::from_str(plain.value()).ok();
            }
        }
        None
    }
}

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent on same-site requests and top-level cross-site navigations (GET).
    Lax,
    /// Sent on every request, cross-site POSTs included; requires `Secure`.
    None,
}

/// A cookie for the adapter to set (or clear, with `max_age` 0) on the response.
///
/// Its `Debug` shows the name, the attributes and the value's length, never the value.
#[derive(Clone, PartialEq, Eq)]
#[must_use]
pub struct SetCookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value (sealed; empty when clearing).
    pub value: String,
    /// `Path` attribute.
    pub path: String,
    /// `Max-Age` in seconds; 0 deletes the cookie.
    pub max_age: i64,
    /// `Secure` attribute.
    pub secure: bool,
    /// `SameSite` attribute.
    pub same_site: SameSite,
}

impl std::fmt::Debug for SetCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value is a sealed session or login: a credential, never printed.
        f.debug_struct("SetCookie")
            .field("name", &self.name)
            .field("value_len", &self.value.len())
            .field("path", &self.path)
            .field("max_age", &self.max_age)
            .field("secure", &self.secure)
            .field("same_site", &self.same_site)
            .finish()
    }
}

impl SetCookie {
    /// A deletion for the cookie `name` at `path`.
    pub(crate) fn clear(name: &str, path: &str, secure: bool) -> Self {
        Self {
            name: name.to_owned(),
            value: String::new(),
            path: path.to_owned(),
            max_age: 0,
            secure,
            same_site: SameSite::Lax,
        }
    }

    /// The `Set-Cookie` header value. Every cookie is `HttpOnly`.
    pub fn header_value(&self) -> String {
        let mut s = format!(
            "{}={}; Path={}; Max-Age={}; HttpOnly",
            self.name, self.value, self.path, self.max_age
        );
        if self.secure {
            s.push_str("; Secure");
        }
        s.push_str(match self.same_site {
            SameSite::Lax => "; SameSite=Lax",
            SameSite::None => "; SameSite=None",
        });
        s
    }
}

/// The largest value one cookie of a chunked session carries: with its name and
/// attributes, each `Set-Cookie` stays under the 4 KB browsers accept.
pub(crate) const CHUNK_SIZE: usize = 3800;
/// The most chunks read back (about 60 KB): more is refused as garbage.
const MAX_CHUNKS: usize = 16;

/// The name of chunk `i` (0 is the cookie itself).
fn chunk_name(name: &str, i: usize) -> String {
    if i == 0 {
        name.to_owned()
    } else {
        format!("{name}.{i}")
    }
}

/// Cookies carrying `value` under `template`'s name and attributes: one cookie when it
/// fits, else `name` = `"{count}~{first piece}"`, `name.1`, `name.2`, …. Chunks of an
/// earlier, larger value that `present` still carries are cleared.
pub(crate) fn chunked(
    template: &SetCookie,
    value: &str,
    present: &RequestCookies,
) -> Vec<SetCookie> {
    // Sealed values are base64: every byte is one character, any cut is on a boundary.
    let pieces: Vec<&str> = if value.len() <= CHUNK_SIZE {
        vec![value]
    } else {
        value
            .as_bytes()
            .chunks(CHUNK_SIZE)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect()
    };
    let count = pieces.len();
    let mut out: Vec<SetCookie> = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| SetCookie {
            name: chunk_name(&template.name, i),
            value: if i == 0 && count > 1 {
                format!("{count}~{piece}")
            } else {
                (*piece).to_owned()
            },
            ..template.clone()
        })
        .collect();
    for i in present.chunk_indices(&template.name) {
        if i >= count {
            out.push(SetCookie::clear(
                &chunk_name(&template.name, i),
                &template.path,
                template.secure,
            ));
        }
    }
    out
}

/// The value of the (possibly chunked) cookie `name`: `None` when absent, `Err` when a
/// chunk is missing or the count is garbage. A tampered or truncated chunk is caught by
/// the seal, not here.
pub(crate) fn reassemble(cookies: &RequestCookies, name: &str) -> Option<Result<String, ()>> {
    let first = cookies.get(name)?;
    let Some((count, piece)) = first.split_once('~') else {
        return Some(Ok(first.to_owned()));
    };
    let Ok(count) = count.parse::<usize>() else {
        return Some(Err(()));
    };
    if !(2..=MAX_CHUNKS).contains(&count) {
        return Some(Err(()));
    }
    let mut value = piece.to_owned();
    for i in 1..count {
        match cookies.get(&chunk_name(name, i)) {
            Some(p) => value.push_str(p),
            None => return Some(Err(())),
        }
    }
    Some(Ok(value))
}

/// Deletions for the cookie `name` and every chunk of it that `present` carries.
pub(crate) fn clear_chunked(
    name: &str,
    path: &str,
    secure: bool,
    present: &RequestCookies,
) -> Vec<SetCookie> {
    let mut out = vec![SetCookie::clear(name, path, secure)];
    out.extend(
        present
            .chunk_indices(name)
            .filter(|i| *i > 0)
            .map(|i| SetCookie::clear(&chunk_name(name, i), path, secure)),
    );
    out
}

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
        let pairs = raw
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .map(|(k, v)| (span(k.trim()), span(v.trim().trim_matches('"'))))
            .collect();
        Self { raw, pairs }
    }

    /// From an `http::HeaderMap` (axum, hyper, tower).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::from_header_values(
            headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
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
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Payload {
        a: String,
    }

    #[test]
    fn seal_and_open_round_trip_and_bind_the_name() {
        let keys = CookieKeys::random();
        let p = Payload { a: "x".into() };
        let sealed = keys.seal("n1", &p);
        assert!(!sealed.contains('x') || sealed.len() > 20);
        assert_eq!(keys.open::<Payload>("n1", &sealed), Some(p));
        assert_eq!(
            keys.open::<Payload>("n2", &sealed),
            None,
            "name is associated data"
        );
    }

    #[test]
    fn tampering_is_rejected() {
        let keys = CookieKeys::random();
        let sealed = keys.seal("n", &Payload { a: "hello".into() });
        let mut bytes = sealed.into_bytes();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(keys.open::<Payload>("n", &tampered), None);
        assert_eq!(keys.open::<Payload>("n", "garbage"), None);
    }

    #[test]
    fn rotation_first_seals_all_open() {
        let old = CookieKeys::from_masters([[1u8; 32]]).unwrap();
        let rotated = CookieKeys::from_masters([[2u8; 32], [1u8; 32]]).unwrap();
        let sealed_old = old.seal("n", &Payload { a: "o".into() });
        assert!(rotated.open::<Payload>("n", &sealed_old).is_some());
        let sealed_new = rotated.seal("n", &Payload { a: "n".into() });
        assert!(old.open::<Payload>("n", &sealed_new).is_none());
    }

    #[test]
    fn key_list_parsing() {
        let k = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(CookieKeys::from_base64_list(&format!("{k}, {k}")).is_ok());
        assert_eq!(
            CookieKeys::from_base64_list("c2hvcnQ=").unwrap_err(),
            CookieKeyError::TooShort(1)
        );
        assert_eq!(
            CookieKeys::from_base64_list("!!!").unwrap_err(),
            CookieKeyError::NotBase64(1)
        );
        assert_eq!(
            CookieKeys::from_base64_list(" ").unwrap_err(),
            CookieKeyError::Empty
        );
    }

    fn template() -> SetCookie {
        SetCookie {
            name: "s".into(),
            value: String::new(),
            path: "/".into(),
            max_age: 60,
            secure: true,
            same_site: SameSite::Lax,
        }
    }

    fn as_request(set: &[SetCookie]) -> RequestCookies {
        let header = set
            .iter()
            .filter(|c| c.max_age > 0)
            .map(|c| format!("{}={}", c.name, c.value))
            .collect::<Vec<_>>()
            .join("; ");
        RequestCookies::from_header_values([header.as_str()])
    }

    #[test]
    fn large_values_are_chunked_and_reassembled() {
        let keys = CookieKeys::random();
        let big = Payload {
            a: "x".repeat(9000),
        };
        let sealed = keys.seal("s", &big);
        let set = chunked(&template(), &sealed, &RequestCookies::default());
        assert!(set.len() >= 3, "{} chunks", set.len());
        for c in &set {
            assert!(c.header_value().len() < 4096, "each Set-Cookie under 4 KB");
        }
        let req = as_request(&set);
        let value = reassemble(&req, "s").unwrap().unwrap();
        assert_eq!(keys.open::<Payload>("s", &value), Some(big));

        // A missing chunk is refused; a tampered one fails the seal.
        let without: Vec<SetCookie> = set.iter().filter(|c| c.name != "s.1").cloned().collect();
        assert_eq!(reassemble(&as_request(&without), "s"), Some(Err(())));
        let mut tampered = set.clone();
        let v = &mut tampered[1].value;
        let mid = v.len() / 2;
        let flip = if &v[mid..=mid] == "A" { "B" } else { "A" };
        v.replace_range(mid..=mid, flip);
        let value = reassemble(&as_request(&tampered), "s").unwrap().unwrap();
        assert_eq!(keys.open::<Payload>("s", &value), None);
        // Truncated: the last chunk cut short.
        let mut truncated = set.clone();
        let last = truncated.last_mut().unwrap();
        last.value.truncate(last.value.len() / 2);
        let value = reassemble(&as_request(&truncated), "s").unwrap().unwrap();
        assert_eq!(keys.open::<Payload>("s", &value), None);
        // Garbage counts.
        for bad in ["0~x", "99~x", "z~x"] {
            let req = RequestCookies::from_header_values([format!("s={bad}").as_str()]);
            assert_eq!(reassemble(&req, "s"), Some(Err(())));
        }
    }

    #[test]
    fn stale_chunks_are_cleared_when_the_value_shrinks() {
        let keys = CookieKeys::random();
        let big = keys.seal(
            "s",
            &Payload {
                a: "y".repeat(9000),
            },
        );
        let before = chunked(&template(), &big, &RequestCookies::default());
        let req = as_request(&before);
        let small = keys.seal("s", &Payload { a: "y".into() });
        let set = chunked(&template(), &small, &req);
        assert_eq!(set[0].name, "s");
        assert!(!set[0].value.contains('~'));
        let cleared: Vec<&str> = set[1..].iter().map(|c| c.name.as_str()).collect();
        let stale: Vec<&str> = before[1..].iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cleared, stale);
        assert!(set[1..].iter().all(|c| c.max_age == 0));
        let clear = clear_chunked("s", "/", true, &req);
        assert_eq!(clear.len(), before.len());
    }

    #[test]
    fn set_cookie_header() {
        let c = SetCookie {
            name: "a".into(),
            value: "b".into(),
            path: "/".into(),
            max_age: 60,
            secure: true,
            same_site: SameSite::None,
        };
        assert_eq!(
            c.header_value(),
            "a=b; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=None"
        );
    }

    #[test]
    fn finds_cookies() {
        let mut h = HeaderMap::new();
        h.append(
            http::header::COOKIE,
            "x=1; idme_login_ab=v1".parse().unwrap(),
        );
        h.append(http::header::COOKIE, "y=2".parse().unwrap());
        let c = RequestCookies::from_headers(&h);
        assert_eq!(c.get("y"), Some("2"));
        assert_eq!(c.get("idme_login_ab"), Some("v1"));
        assert_eq!(c.get("z"), None);
        assert!(c.any_with_prefix("idme_login_"));
        assert!(!format!("{c:?}").contains("v1"), "Debug shows no values");
    }
}
