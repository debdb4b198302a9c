//! The userinfo body as ID.me sends it: a JSON string literal holding a compact JWT
//! (sometimes inside a second layer of quotes), or plain JSON from other providers.

use serde_json::{Map, Value};

use crate::error::ProviderMisbehaved;

/// What a userinfo body turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum UserinfoBody {
    /// Plain JSON claims.
    Json(Map<String, Value>),
    /// A compact JWS (three parts) to verify with the JWKS.
    Jws(String),
    /// A compact JWE (five parts), encrypted to the RP.
    Jwe(String),
}

/// Trims, peels JSON string layers, then tells JWS, JWE and plain JSON apart.
pub(crate) fn classify(body: &[u8]) -> Result<UserinfoBody, ProviderMisbehaved> {
    let text = std::str::from_utf8(body).map_err(|_| ProviderMisbehaved::MalformedUserinfo)?;
    let mut text = text.trim().to_owned();
    for _ in 0..3 {
        if !text.starts_with('"') {
            break;
        }
        text = serde_json::from_str::<String>(&text)
            .map_err(|_| ProviderMisbehaved::MalformedUserinfo)?
            .trim()
            .to_owned();
    }
    if text.starts_with('{') {
        return match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => Ok(UserinfoBody::Json(m)),
            _ => Err(ProviderMisbehaved::MalformedUserinfo),
        };
    }
    let compact_chars = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if !compact_chars(&text) {
        return Err(ProviderMisbehaved::MalformedUserinfo);
    }
    match text.split('.').count() {
        3 => Ok(UserinfoBody::Jws(text)),
        5 => Ok(UserinfoBody::Jwe(text)),
        _ => Err(ProviderMisbehaved::MalformedUserinfo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idme_string_wrapped_jwt() {
        assert_eq!(
            classify(b"\"aaa.bbb.ccc\"\n").unwrap(),
            UserinfoBody::Jws("aaa.bbb.ccc".into())
        );
        assert_eq!(
            classify(br#""\"aaa.bbb.ccc\"""#).unwrap(),
            UserinfoBody::Jws("aaa.bbb.ccc".into())
        );
        assert_eq!(
            classify(b"a.b.c.d.e").unwrap(),
            UserinfoBody::Jwe("a.b.c.d.e".into())
        );
    }

    #[test]
    fn plain_json() {
        let UserinfoBody::Json(m) = classify(br#" {"sub":"x"} "#).unwrap() else {
            panic!()
        };
        assert_eq!(m["sub"], "x");
    }

    #[test]
    fn garbage() {
        for body in [&b"<html>"[..], b"[1]", b"\"a.b\"", b"\xff", b"\"a b.c.d\""] {
            assert_eq!(classify(body), Err(ProviderMisbehaved::MalformedUserinfo));
        }
    }
}
