//! The Security Event Token (RFC 8417) as claims: the checks that need no key (its
//! shape, before the signature is checked: never an ID token, a logout token or a JWE),
//! the checks of its claims once signed (`iss`, `aud`, `iat`, `jti`, `events`), and the
//! [`SecurityEvent`]s it carries. The signature itself is checked by the engine, with the
//! transmitter's keys.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::kind::SecurityEventKind;
use super::subject::SubjectId;

/// How old a Security Event Token may be (seconds, beyond the clock skew): a day. ID.me
/// retries a failed delivery three times; a SET older than this is refused as stale, and
/// its `jti` is remembered at least this long, so a replay is never processed twice.
pub const SET_MAX_AGE: u64 = 24 * 3600;

/// The event of the OIDC back-channel logout token, which is never a SET here.
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Why a Security Event Token was refused: the `err` codes of RFC 8935 §2.3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetError {
    /// `invalid_request`: not a SET (wrong content type, too large, encrypted, malformed,
    /// an ID token or a logout token, a claim missing or stale).
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// `invalid_key`: signed with a key the transmitter's key set does not have, even after
    /// fetching it again.
    #[error("invalid_key: the signing key is not in the transmitter's key set")]
    InvalidKey,
    /// `authentication_failed`: the signature does not verify, or the token is unsigned
    /// or signed with an algorithm not accepted (`none`, HMAC).
    #[error("authentication_failed: {0}")]
    AuthenticationFailed(&'static str),
    /// `invalid_issuer`: `iss` is not the configured events issuer.
    #[error("invalid_issuer: the SET's issuer is not the configured one")]
    InvalidIssuer,
    /// `invalid_audience`: `aud` does not name the configured audience.
    #[error("invalid_audience: the SET's audience is not the configured one")]
    InvalidAudience,
}

impl SetError {
    /// The RFC 8935 `err` code.
    pub fn err(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidKey => "invalid_key",
            Self::AuthenticationFailed(_) => "authentication_failed",
            Self::InvalidIssuer => "invalid_issuer",
            Self::InvalidAudience => "invalid_audience",
        }
    }

    /// The human-readable `description`.
    pub fn description(&self) -> String {
        match self {
            Self::InvalidRequest(why) | Self::AuthenticationFailed(why) => (*why).to_owned(),
            Self::InvalidKey => "the signing key is not in the transmitter's key set".into(),
            Self::InvalidIssuer => "the issuer is not the configured one".into(),
            Self::InvalidAudience => "the audience is not the configured one".into(),
        }
    }
}

/// One verified security event, as the application's
/// [`SecurityEventHandler`](super::SecurityEventHandler) receives it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SecurityEvent {
    /// What happened.
    pub kind: SecurityEventKind,
    /// Whom it is about: the SET's `sub_id` (RFC 9493), else the event's `subject`
    /// (RISC); `None` when it has neither.
    pub subject: Option<SubjectId>,
    /// The person's `sub`, when the subject is `iss_sub` with the OIDC provider's issuer:
    /// whose sessions and app grants an access-ending event ended.
    pub sub: Option<String>,
    /// The SET's `jti`.
    pub jti: String,
    /// The SET's `iat` (Unix seconds).
    pub iat: u64,
    /// The event's own claims (the SET's `events` member for this event type).
    pub claims: Map<String, Value>,
    /// The SET's `txn`, if any: the transaction that caused it at the transmitter.
    pub txn: Option<String>,
}

/// What a SET must say: its transmitter, its audience, and the OIDC issuer its
/// `iss_sub` subjects name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audience: &'a str,
    pub(crate) oidc_issuer: &'a str,
}

fn b64_json(part: &str) -> Option<Map<String, Value>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The checks that need no key, on the compact token as posted: a JWS of three parts (a
/// JWE, of five, is refused unread), `typ` `secevent+jwt` when present, and claims shaped
/// like a SET and unlike an ID token or a logout token.
pub(crate) fn check_shape(token: &str) -> Result<(), SetError> {
    let bad = SetError::InvalidRequest;
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(bad("an encrypted SET (JWE) is not accepted")),
        _ => return Err(bad("not a compact JWS")),
    }
    let header = b64_json(parts[0]).ok_or(bad("malformed header"))?;
    let claims = b64_json(parts[1]).ok_or(bad("malformed claims"))?;
    if let Some(typ) = header.get("typ") {
        let typ = typ.as_str().unwrap_or("").to_ascii_lowercase();
        if typ.strip_prefix("application/").unwrap_or(&typ) != "secevent+jwt" {
            return Err(bad("typ is not secevent+jwt"));
        }
    }
    if claims.contains_key("nonce") {
        return Err(bad("an ID token is not a SET"));
    }
    let events = claims
        .get("events")
        .and_then(Value::as_object)
        .ok_or(bad("no events claim"))?;
    if events.contains_key(BACKCHANNEL_EVENT) {
        return Err(bad("a logout token is not a SET"));
    }
    if events.is_empty() || !events.values().all(Value::is_object) {
        return Err(bad("events must be a non-empty object of objects"));
    }
    Ok(())
}

/// Checks the claims of a SET whose signature verified, at `now` (Unix seconds) with
/// `skew` seconds of clock skew, and reads its events.
pub(crate) fn read(
    claims: &Map<String, Value>,
    expected: Expected<'_>,
    now: u64,
    skew: u64,
) -> Result<Vec<SecurityEvent>, SetError> {
    let bad = SetError::InvalidRequest;
    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(SetError::InvalidIssuer);
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(SetError::InvalidAudience);
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or(bad("iat missing"))?;
    if iat > now.saturating_add(skew) {
        return Err(bad("issued in the future"));
    }
    if iat.saturating_add(SET_MAX_AGE + skew) < now {
        return Err(bad("issued too long ago"));
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or(bad("jti missing"))?;
    let txn = claims.get("txn").and_then(Value::as_str).map(str::to_owned);
    let sub_id = claims.get("sub_id").map(SubjectId::from_json);
    let events = claims
        .get("events")
        .and_then(Value::as_object)
        .ok_or(bad("no events claim"))?;
    let mut read = Vec::with_capacity(events.len());
    for (uri, event) in events {
        let event = event.as_object().ok_or(bad("an event is not an object"))?;
        let subject = sub_id
            .clone()
            .or_else(|| event.get("subject").map(SubjectId::from_json));
        let sub = subject
            .as_ref()
            .and_then(|s| s.sub_at(expected.oidc_issuer))
            .map(str::to_owned);
        read.push(SecurityEvent {
            kind: SecurityEventKind::from_uri(uri),
            subject,
            sub,
            jti: jti.to_owned(),
            iat,
            claims: event.clone(),
            txn: txn.clone(),
        });
    }
    if read.is_empty() {
        return Err(bad("no events"));
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EXPECTED: Expected<'static> = Expected {
        issuer: "https://events.id.me",
        audience: "aud-1",
        oidc_issuer: "https://api.id.me/oidc",
    };
    const DISABLED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";

    fn compact(header: Value, claims: Value) -> String {
        let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", enc(header), enc(claims))
    }

    fn set(extra: Value) -> Map<String, Value> {
        let mut c = json!({
            "iss": "https://events.id.me", "aud": "aud-1", "iat": 1000, "jti": "j1",
            "events": { DISABLED: { "subject": {
                "format": "iss_sub", "iss": "https://api.id.me/oidc", "sub": "u1" } } }
        });
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c.as_object().unwrap().clone()
    }

    #[test]
    fn a_set_is_read_with_its_subject_and_person() {
        let events = read(&set(json!({"txn": "t"})), EXPECTED, 1000, 60).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.kind, SecurityEventKind::AccountDisabled);
        assert_eq!(e.sub.as_deref(), Some("u1"));
        assert_eq!(
            (e.jti.as_str(), e.iat, e.txn.as_deref()),
            ("j1", 1000, Some("t"))
        );
        assert!(e.claims.contains_key("subject"));
        // `sub_id` wins over the event's subject.
        let opaque = json!({"sub_id": {"format": "opaque", "id": "o"}});
        let e = &read(&set(opaque), EXPECTED, 1000, 60).unwrap()[0];
        assert_eq!(e.subject, Some(SubjectId::Opaque { id: "o".into() }));
        assert_eq!(e.sub, None);
    }

    #[test]
    fn each_claim_is_checked() {
        let r = |extra: Value, now: u64| read(&set(extra), EXPECTED, now, 60);
        assert_eq!(
            r(json!({"iss": "https://x"}), 1000),
            Err(SetError::InvalidIssuer)
        );
        assert_eq!(
            r(json!({"aud": "aud-2"}), 1000),
            Err(SetError::InvalidAudience)
        );
        assert!(r(json!({"aud": ["x", "aud-1"]}), 1000).is_ok());
        assert_eq!(
            r(json!({"aud": ["aud-1x"]}), 1000),
            Err(SetError::InvalidAudience)
        );
        assert_eq!(
            r(json!({"iat": null}), 1000).unwrap_err().err(),
            "invalid_request"
        );
        assert_eq!(
            r(json!({"jti": ""}), 1000).unwrap_err().err(),
            "invalid_request"
        );
        assert!(r(json!({}), 1000 - 60).is_ok(), "within the skew");
        assert!(r(json!({}), 1000 - 61).is_err(), "from the future");
        assert!(r(json!({}), 1000 + SET_MAX_AGE + 60).is_ok());
        assert!(r(json!({}), 1000 + SET_MAX_AGE + 61).is_err(), "stale");
    }

    #[test]
    fn shapes_that_are_not_sets_are_refused_unread() {
        let ok_claims = json!({"events": {DISABLED: {}}});
        let shape = |h: Value, c: Value| check_shape(&compact(h, c));
        assert_eq!(shape(json!({"alg": "RS256"}), ok_claims.clone()), Ok(()));
        for typ in ["secevent+jwt", "application/secevent+jwt", "SecEvent+JWT"] {
            assert_eq!(
                shape(json!({"typ": typ}), ok_claims.clone()),
                Ok(()),
                "{typ}"
            );
        }
        let refused = [
            (json!({"typ": "JWT"}), ok_claims.clone()),
            (json!({"typ": "logout+jwt"}), ok_claims.clone()),
            (
                json!({}),
                json!({"sub": "u", "nonce": "n", "events": {DISABLED: {}}}),
            ),
            (json!({}), json!({"sub": "u", "aud": "a"})),
            (json!({}), json!({"events": {BACKCHANNEL_EVENT: {}}})),
            (json!({}), json!({"events": {}})),
            (json!({}), json!({"events": {DISABLED: "x"}})),
        ];
        for (h, c) in refused {
            assert_eq!(
                shape(h.clone(), c.clone()).unwrap_err().err(),
                "invalid_request",
                "{h} {c}"
            );
        }
        assert_eq!(
            check_shape("a.b.c.d.e"),
            Err(SetError::InvalidRequest(
                "an encrypted SET (JWE) is not accepted"
            ))
        );
        assert!(check_shape("a.b").is_err());
    }
}
