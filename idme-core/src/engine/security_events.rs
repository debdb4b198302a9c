//! The security-event receiver (Shared Signals Framework push delivery, RFC 8935): a
//! Security Event Token is verified (RFC 8417, with the transmitter's own key set), its
//! `jti` claimed once across instances, the sessions and app grants of the person an
//! access-ending event names end, and the application's hook hears every event.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::Idme;
use super::authenticate;
use crate::error::{Error, ProviderMisbehaved};
use crate::events::set::{self, Expected};
use crate::events::{SET_MAX_AGE, SecurityEvent, SetError};
use crate::reply::Reply;
use crate::validate::jws::Alg;

/// The largest SET body read (bytes): ID.me's are a few hundred; a larger body is
/// refused unread.
pub(crate) const SET_BODY_LIMIT: usize = 64 * 1024;

/// The signature algorithms a SET may use: RSA (ID.me signs RS256) and ECDSA. Never
/// `none`, never HMAC (no secret is shared with the transmitter).
const SET_ALGORITHMS: [Alg; 8] = [
    Alg::RsaSsaPkcs1V15Sha256,
    Alg::RsaSsaPkcs1V15Sha384,
    Alg::RsaSsaPkcs1V15Sha512,
    Alg::RsaSsaPssSha256,
    Alg::RsaSsaPssSha384,
    Alg::RsaSsaPssSha512,
    Alg::EcdsaP256Sha256,
    Alg::EcdsaP384Sha384,
];

/// Why a SET was not accepted.
enum NotAccepted {
    /// Refused: `400` with the RFC 8935 error.
    Refused(SetError),
    /// It could not be processed now (the transmitter's keys or the store unreachable):
    /// `503`, so the transmitter retries.
    Unavailable(Error),
    /// The receiver is not configured.
    Off,
}

impl From<SetError> for NotAccepted {
    fn from(e: SetError) -> Self {
        NotAccepted::Refused(e)
    }
}

impl From<crate::store::StoreError> for NotAccepted {
    fn from(e: crate::store::StoreError) -> Self {
        NotAccepted::Unavailable(e.into())
    }
}

impl Idme {
    /// `POST` on the security-event route: one Security Event Token pushed by the
    /// transmitter (ID.me's Shared Signals Framework; RFC 8935). `content_type` is the
    /// request's `Content-Type`, `body` the SET (at most 64 KiB).
    ///
    /// The SET must be `application/secevent+jwt`, a JWS (a JWE is refused unread) signed
    /// with a key of the transmitter's JWKS (cached; fetched once more, rate-limited, for
    /// an unknown `kid`), `typ` `secevent+jwt` where present, `iss` the configured issuer,
    /// `aud` naming the configured audience, `iat` within the clock skew and at most
    /// [`SET_MAX_AGE`] old, with a `jti` and an `events` object; an ID token or a logout
    /// token is never taken for one. Its `jti` is claimed in the session store (across
    /// instances) or, without one, in this process: a SET seen before is answered `202`
    /// and not processed again.
    ///
    /// An event whose kind [ends access](crate::events::SecurityEventKind::ends_access)
    /// and whose subject names a person of the OIDC provider (`iss_sub`) ends every session
    /// of that person (deleted from the session store; with the cookie store, refused by
    /// this instance until they would have expired: other instances do not hear of it)
    /// and, through the extensions, what was issued to them (for `idme-apps`, every app
    /// grant). Then the hook ([`IdmeBuilder::on_security_event`](crate::IdmeBuilder::on_security_event))
    /// is called for each event.
    ///
    /// Answers `202` (empty) when accepted; `400` with `{"err", "description"}` (RFC 8935
    /// §2.3) when refused; `503` when the keys or the store cannot be reached, so the
    /// transmitter retries; `404` when the receiver is not configured.
    pub async fn receive_security_event(&self, content_type: Option<&str>, body: &[u8]) -> Reply {
        let reply = match self.process_security_event(content_type, body).await {
            Ok(events) => {
                tracing::info!(target: "idme::events", events, "security event accepted");
                Reply {
                    status: 202,
                    headers: Vec::new(),
                    set_cookies: Vec::new(),
                    body: String::new(),
                }
            }
            Err(NotAccepted::Refused(e)) => {
                tracing::warn!(target: "idme::events", error = %e, "security event refused");
                Reply::json(
                    400,
                    &json!({ "err": e.err(), "description": e.description() }),
                )
            }
            Err(NotAccepted::Unavailable(e)) => {
                tracing::error!(target: "idme::events", error = %e, "security event not processed: the transmitter will retry");
                Reply::json(
                    503,
                    &json!({
                        "err": "temporarily_unavailable",
                        "description": "the event could not be processed now; retry later",
                    }),
                )
            }
            Err(NotAccepted::Off) => Reply::json(404, &json!({ "error": "not_found" })),
        };
        let mut reply = reply;
        reply.headers.retain(|(k, _)| *k != "cache-control");
        reply.headers.push(("cache-control", "no-store".into()));
        reply
    }

    /// Verifies, claims and processes one SET; returns how many events it carried (0 for
    /// a replay).
    async fn process_security_event(
        &self,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<usize, NotAccepted> {
        let inner = &self.inner;
        let (Some(events_config), Some(keys)) = (&inner.config.security_events, &inner.events_keys)
        else {
            return Err(NotAccepted::Off);
        };
        let bad = SetError::InvalidRequest;
        let media_type = content_type
            .and_then(|c| c.split(';').next())
            .map(str::trim);
        if !media_type.is_some_and(|m| m.eq_ignore_ascii_case("application/secevent+jwt")) {
            return Err(bad("the content type is not application/secevent+jwt").into());
        }
        if body.len() > SET_BODY_LIMIT {
            return Err(bad("the body is larger than 64 KiB").into());
        }
        let token = std::str::from_utf8(body)
            .map_err(|_| bad("the body is not text"))?
            .trim();
        set::check_shape(token)?;
        let now = inner.config.clock.now();
        let skew = inner.config.clock_skew.as_secs();
        let verified = keys
            .verify_jws(token, None, &SET_ALGORITHMS, now)
            .await
            .map_err(signature_refusal)?;
        let expected = Expected {
            issuer: &events_config.issuer,
            audience: &events_config.audience,
            oidc_issuer: inner.provider.issuer(),
        };
        let events = set::read(&verified.claims, expected, now, skew)?;
        let Some(first) = events.first() else {
            return Err(bad("no events").into());
        };
        let digest = Sha256::digest(format!("{}|{}", events_config.issuer, first.jti));
        let key = format!("events-jti:{}", hex::encode(digest));
        let until = first.iat + SET_MAX_AGE + 2 * skew + 1;
        match &inner.config.session_store {
            Some(store) => {
                let owner = hex::encode(rand::random::<[u8; 16]>());
                let ttl = std::time::Duration::from_secs(until.saturating_sub(now).max(1));
                if !store.lock(&key, &owner, ttl).await? {
                    tracing::info!(target: "idme::events", "security event already processed (replayed jti)");
                    return Ok(0);
                }
                if let Err(e) = self.apply_security_events(&events, now).await {
                    if let Err(release) = store.release(&key, &owner).await {
                        tracing::warn!(target: "idme::events", error = %release, "the event's jti could not be released: the retry may be taken for a replay");
                    }
                    return Err(NotAccepted::Unavailable(e.into()));
                }
            }
            None => {
                if !inner.sessions.claim_jti(&key, until, now) {
                    tracing::info!(target: "idme::events", "security event already processed (replayed jti)");
                    return Ok(0);
                }
                if let Err(e) = self.apply_security_events(&events, now).await {
                    // A retry after a failure is not a replay.
                    inner.sessions.release_jti(&key);
                    return Err(e.into());
                }
            }
        }
        Ok(events.len())
    }

    /// Ends the access of each person an access-ending event names, then hands every
    /// event to the application's hook.
    async fn apply_security_events(
        &self,
        events: &[SecurityEvent],
        now: u64,
    ) -> Result<(), crate::store::StoreError> {
        let inner = &self.inner;
        let mut ended: Vec<&str> = Vec::new();
        for event in events.iter().filter(|e| e.kind.ends_access()) {
            let Some(sub) = event.sub.as_deref() else {
                continue;
            };
            if ended.contains(&sub) {
                continue;
            }
            authenticate::forget_person(inner, sub, now).await?;
            let of_the_person = crate::extension::SessionsEnded {
                reason: crate::extension::SessionsEndedReason::SecurityEvent,
                sub: Some(sub),
                provider_sid: None,
                session_id: None,
            };
            super::logout::end_in_extensions(self, of_the_person).await?;
            crate::metrics::sessions_ended(crate::metrics::EndReason::SecurityEvent);
            tracing::info!(target: "idme::events", sub, kind = %event.kind.uri(), "security event ended the person's sessions");
            ended.push(sub);
        }
        if let Some(handler) = inner
            .config
            .security_events
            .as_ref()
            .and_then(|c| c.handler.as_ref())
        {
            for event in events {
                handler.0.handle(event).await;
            }
        }
        Ok(())
    }
}

/// The RFC 8935 answer to a SET whose signature could not be verified; the transmitter's
/// keys being unreachable is not the SET's fault (`503`).
fn signature_refusal(e: Error) -> NotAccepted {
    match e {
        Error::ProviderMisbehaved(ProviderMisbehaved::UnknownSigningKey) => {
            SetError::InvalidKey.into()
        }
        Error::ProviderMisbehaved(ProviderMisbehaved::DisallowedAlgorithm(_)) => {
            SetError::AuthenticationFailed("unsigned, or signed with an algorithm not accepted")
                .into()
        }
        Error::ProviderMisbehaved(ProviderMisbehaved::BadSignature) => {
            SetError::AuthenticationFailed("the signature does not verify").into()
        }
        Error::ProviderMisbehaved(ProviderMisbehaved::MalformedJwt) => {
            SetError::InvalidRequest("malformed JWS").into()
        }
        Error::ProviderMisbehaved(ProviderMisbehaved::MalformedJwks)
        | Error::ProviderUnavailable(_) => NotAccepted::Unavailable(e),
        _ => SetError::AuthenticationFailed("the signature could not be verified").into(),
    }
}
