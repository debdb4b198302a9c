//! `iss` and `aud` of the signed JWTs that are not ID tokens: signed userinfo (OIDC Core
//! §5.3.2) and the back-channel logout token. Ours because `openidconnect`'s verifiers
//! cannot read them: its userinfo claims refuse what ID.me sends in typed standard claims
//! and it has no logout-token type (one may carry `sid` and no `sub`, and no `exp`).

use serde_json::{Map, Value};

/// Which of the two claims is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    Issuer,
    Audience,
}

/// `iss` must be the issuer, and `aud` (a string or an array) must name the client.
pub(crate) fn issuer_and_audience(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
) -> Result<(), Refused> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(Refused::Issuer);
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if aud_ok {
        Ok(())
    } else {
        Err(Refused::Audience)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(c: Value) -> Result<(), Refused> {
        issuer_and_audience(c.as_object().unwrap(), "https://iss", "cid")
    }

    #[test]
    fn issuer_then_audience() {
        assert_eq!(check(json!({"iss":"https://iss","aud":"cid"})), Ok(()));
        assert_eq!(
            check(json!({"iss":"https://iss","aud":["x","cid"]})),
            Ok(())
        );
        assert_eq!(check(json!({"aud":"cid"})), Err(Refused::Issuer));
        assert_eq!(
            check(json!({"iss":"https://evil","aud":"cid"})),
            Err(Refused::Issuer)
        );
        assert_eq!(
            check(json!({"iss":"https://iss","aud":"x"})),
            Err(Refused::Audience)
        );
        assert_eq!(check(json!({"iss":"https://iss"})), Err(Refused::Audience));
    }
}
