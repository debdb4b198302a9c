//! The session's ID token as it is sealed: a signed token as its header and payload JSON
//! text beside its base64url signature, so the compact seal's deflate finds the claims the
//! session repeats (`sub`, `sid`, the nonce…) instead of meeting base64 it cannot match:
//! about 230 fewer bytes of `Cookie` header on every request. Read back byte for byte as
//! the provider issued it (for `id_token_hint`); a token that would not be (a JWE,
//! non-canonical base64, non-UTF-8 JSON) is kept whole, and so are sessions sealed before.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::IdToken;

/// The two sealed forms.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Form {
    /// Header JSON, payload JSON, signature (base64url).
    Split(String, String, String),
    /// The compact serialisation as issued.
    Whole(String),
}

/// The part decoded to text, if encoding that text again gives the part back exactly.
fn decoded(part: &str) -> Option<String> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(part).ok()?).ok()?;
    (URL_SAFE_NO_PAD.encode(&text) == part).then_some(text)
}

fn split(token: &str) -> Option<Form> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(Form::Split(decoded(h)?, decoded(p)?, s.to_owned()))
}

fn joined(form: Form) -> String {
    match form {
        Form::Whole(token) => token,
        Form::Split(h, p, s) => {
            format!(
                "{}.{}.{s}",
                URL_SAFE_NO_PAD.encode(h),
                URL_SAFE_NO_PAD.encode(p)
            )
        }
    }
}

/// `#[serde(with)]` half: the token split where that reads back exactly.
pub(crate) fn serialize<S: Serializer>(token: &Option<IdToken>, s: S) -> Result<S::Ok, S::Error> {
    let form = token.as_ref().map(|t| {
        let token = t.secret();
        split(token).unwrap_or_else(|| Form::Whole(token.to_owned()))
    });
    form.serialize(s)
}

/// `#[serde(with)]` half: either form.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IdToken>, D::Error> {
    Ok(Option::<Form>::deserialize(d)?.map(|form| IdToken::new(joined(form))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Holder {
        #[serde(default, with = "super")]
        id_token: Option<IdToken>,
    }

    fn round_trip(token: &str) -> (String, String) {
        let json = serde_json::to_string(&Holder {
            id_token: Some(IdToken::new(token)),
        })
        .unwrap();
        let back: Holder = serde_json::from_str(&json).unwrap();
        (json, back.id_token.unwrap().secret().to_owned())
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn a_signed_token_is_sealed_as_text_and_reads_back_exactly() {
        let token = format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"sub":"alice","nonce":"n1"}"#)
        );
        let (json, back) = round_trip(&token);
        assert_eq!(back, token);
        assert!(json.contains(r#"\"sub\":\"alice\""#), "{json}");
    }

    #[test]
    fn tokens_that_would_not_read_back_exactly_stay_whole() {
        let jwe = "eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn";
        let padded = format!("{}=.{}.sig", b64(r#"{"alg":"RS256"}"#), b64("{}"));
        let not_utf8 = format!("{}.{}.sig", URL_SAFE_NO_PAD.encode([0xff, 0xfe]), b64("{}"));
        // `e31`: the bytes of `e30` (`{}`) with non-zero trailing bits.
        let non_canonical = "eyJhbGciOiJSUzI1NiJ9.e31.sig";
        for token in [jwe, &padded, &not_utf8, non_canonical, "a.b", "garbage"] {
            let (json, back) = round_trip(token);
            assert_eq!(back, token);
            assert!(json.contains(token), "{json}");
        }
    }

    #[test]
    fn a_session_sealed_with_the_whole_token_still_reads() {
        let back: Holder = serde_json::from_str(r#"{"id_token":"h.p.s"}"#).unwrap();
        assert_eq!(back.id_token.unwrap().secret(), "h.p.s");
        let none: Holder = serde_json::from_str(r#"{}"#).unwrap();
        assert!(none.id_token.is_none());
        let null: Holder = serde_json::from_str(r#"{"id_token":null}"#).unwrap();
        assert!(null.id_token.is_none());
    }
}
