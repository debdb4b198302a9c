//! Sealed cookies: AEAD-encrypted with the cookie name, the issuer and the client id as
//! associated data (the `cookie` crate's private jar, AES-256-GCM), with a list of keys so
//! they can rotate.
//!
//! Also the plain [`SetCookie`] value the engine hands to adapters, and the parser for
//! incoming `Cookie` headers.
//!
//! | module | what it holds |
//! |---|---|
//! | this one | [`CookieKeys`]: sealing and opening, key rotation, the issuer/client binding |
//! | `set_cookie` | [`SetCookie`], [`SameSite`]: what the adapters write |
//! | `chunks` | splitting a large sealed value over several cookies, and reassembling it |
//! | `request` | [`RequestCookies`]: the parsed `Cookie` header |

mod chunks;
mod compact;
mod request;
mod set_cookie;

pub(crate) use chunks::{chunked, clear_chunked, reassemble};
pub use request::RequestCookies;
pub use set_cookie::{SameSite, SetCookie};

use base64::Engine as _;
use cookie::{Cookie, CookieJar, Key};
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

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;
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
        let value = reassemble(&as_request(&tampered), "s")
            .unwrap()
            .unwrap()
            .into_owned();
        assert_eq!(keys.open::<Payload>("s", &value), None);
        // Truncated: the last chunk cut short.
        let mut truncated = set.clone();
        let last = truncated.last_mut().unwrap();
        last.value.truncate(last.value.len() / 2);
        let value = reassemble(&as_request(&truncated), "s")
            .unwrap()
            .unwrap()
            .into_owned();
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
