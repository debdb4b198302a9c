//! Security events, transmitted as ID.me transmits them (the Shared Signals Framework's
//! push delivery): one Security Event Token (RFC 8417) per HTTP `POST` (RFC 8935) to the
//! receiver the relying party registered, signed RS256 with the emulator's own events key,
//! published at [`EVENTS_JWKS_PATH`] (a path of its own, not discovery, like ID.me's SSF
//! JWKS URL), and retried [`RETRIES`] times when the receiver does not answer `2xx`.
//!
//! ```no_run
//! # async fn demo(app_events_url: &str) -> std::io::Result<()> {
//! use idme_testkit::{Emulator, EmulatorConfig, EventsReceiver, Persona, risc};
//! let idme = Emulator::start(EmulatorConfig::default()).await?;
//! // The relying party is configured with `idme.events_jwks_url()`, `idme.events_issuer()`
//! // and the audience below.
//! idme.set_events_receiver(Some(EventsReceiver {
//!     url: app_events_url.to_owned(),
//!     audience: "my-app".to_owned(),
//! }));
//! let sent = idme.send_security_event(risc::ACCOUNT_DISABLED, Persona::Veteran).await?;
//! assert!(sent.delivered());
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::keys::{self, KeyRing, SigningKey};
use crate::persona::Persona;
use crate::state::{Shared, lock};

/// The event-type URIs of the RISC profile ID.me sends (OpenID RISC Profile 1.0 §2), and
/// CAEP's session revocation.
pub mod risc {
    /// The account was disabled: every session of the person should end.
    pub const ACCOUNT_DISABLED: &str =
        "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
    /// The account was deleted.
    pub const ACCOUNT_PURGED: &str =
        "https://schemas.openid.net/secevent/risc/event-type/account-purged";
    /// A disabled account was enabled again.
    pub const ACCOUNT_ENABLED: &str =
        "https://schemas.openid.net/secevent/risc/event-type/account-enabled";
    /// A credential of the person was compromised.
    pub const CREDENTIAL_COMPROMISE: &str =
        "https://schemas.openid.net/secevent/risc/event-type/credential-compromise";
    /// The person must change a credential.
    pub const CREDENTIAL_CHANGE_REQUIRED: &str =
        "https://schemas.openid.net/secevent/risc/event-type/credential-change-required";
    /// An identifier (email, phone) of the account changed.
    pub const IDENTIFIER_CHANGED: &str =
        "https://schemas.openid.net/secevent/risc/event-type/identifier-changed";
    /// An identifier now belongs to someone else.
    pub const IDENTIFIER_RECYCLED: &str =
        "https://schemas.openid.net/secevent/risc/event-type/identifier-recycled";
    /// Account recovery was started.
    pub const RECOVERY_ACTIVATED: &str =
        "https://schemas.openid.net/secevent/risc/event-type/recovery-activated";
    /// The account's recovery information changed.
    pub const RECOVERY_INFORMATION_CHANGED: &str =
        "https://schemas.openid.net/secevent/risc/event-type/recovery-information-changed";
    /// Every session of the person was revoked.
    pub const SESSIONS_REVOKED: &str =
        "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked";
}

/// The path of the emulator's events JWKS (the keys its security events are signed with).
pub const EVENTS_JWKS_PATH: &str = "/ssf/jwks";
/// The `iss` of ID.me's security events, which the emulator's carry too.
pub const EVENTS_ISSUER: &str = "https://events.id.me";
/// How many times a delivery is retried after a non-`2xx` answer or no answer (ID.me's default).
pub const RETRIES: usize = 3;
/// The pause before the first retry; each later one waits twice as long.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many deliveries [`Emulator::sent_security_events`](crate::Emulator::sent_security_events) keeps.
const SENT_KEPT: usize = 256;

/// Where the emulator delivers security events: the receiver URL and the audience the
/// relying party registered (ID.me takes both at registration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsReceiver {
    /// The receiver URL, e.g. `https://app.example/auth/events`.
    pub url: String,
    /// The registered audience string: the SETs' `aud`.
    pub audience: String,
}

/// One security event the emulator delivered (or tried to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEvent {
    /// The event-type URI (see [`risc`]).
    pub event_type: String,
    /// The person the event is about (their `sub`).
    pub sub: String,
    /// The SET's `jti`.
    pub jti: String,
    /// The receiver's status for each attempt, in order; `None` when it did not answer.
    pub statuses: Vec<Option<u16>>,
}

impl SentEvent {
    /// Whether the receiver accepted it (answered `2xx` to an attempt).
    pub fn delivered(&self) -> bool {
        self.statuses
            .last()
            .is_some_and(|s| s.is_some_and(|s| (200..300).contains(&s)))
    }

    /// How many attempts were made (1 + retries).
    pub fn attempts(&self) -> usize {
        self.statuses.len()
    }
}

/// The emulator's side of security events: its keys (made on first use), the receiver,
/// and what it sent.
#[derive(Debug, Default)]
pub(crate) struct Transmitter {
    keys: Option<KeyRing>,
    pub(crate) receiver: Option<EventsReceiver>,
    sent: VecDeque<SentEvent>,
    /// The persona that signed in last, offered first on the control page.
    pub(crate) last_persona: Option<Persona>,
}

impl Transmitter {
    /// A transmitter delivering to `receiver`, its keys not made yet.
    pub(crate) fn new(receiver: Option<EventsReceiver>) -> Self {
        Transmitter {
            receiver,
            ..Self::default()
        }
    }
}

/// The events key ring, made (off the async workers) on first use.
pub(crate) async fn key_ring(shared: &Shared) -> io::Result<KeyRing> {
    if let Some(keys) = lock(&shared.events).keys.clone() {
        return Ok(keys);
    }
    let first = keys::off_thread(keys::events_key).await?;
    let mut events = lock(&shared.events);
    Ok(events
        .keys
        .get_or_insert_with(|| KeyRing::new(first))
        .clone())
}

/// The events JWKS document.
pub(crate) async fn jwks(shared: &Shared) -> io::Result<Value> {
    Ok(key_ring(shared).await?.jwks(false))
}

/// Makes a new events signing key current; the old one stays published.
pub(crate) async fn rotate(shared: &Shared) -> io::Result<()> {
    key_ring(shared).await?;
    let next = keys::off_thread(|| SigningKey::generate(None).map(Arc::new)).await?;
    if let Some(keys) = lock(&shared.events).keys.as_mut() {
        keys.rotate(next);
    }
    Ok(())
}

/// A signed SET saying `event_type` happened to `persona`, for `audience`. The subject is
/// named both ways ID.me may name it: RFC 9493's top-level `sub_id` and RISC's `subject`
/// in the event, each `iss_sub` with the OpenID issuer and the person's `sub`. `extra` (an
/// object) is merged over the claims, a `null` member removing one.
pub(crate) async fn token(
    shared: &Shared,
    event_type: &str,
    persona: Persona,
    audience: &str,
    extra: Value,
) -> io::Result<(String, String)> {
    let key = key_ring(shared).await?.current();
    let jti = crate::util::random_hex(16);
    let subject = json!({ "format": "iss_sub", "iss": shared.issuer, "sub": persona.sub() });
    let mut claims = json!({
        "iss": shared.events_issuer,
        "aud": audience,
        "iat": shared.clock.secs(),
        "jti": jti,
        "sub_id": subject,
        "events": { event_type: { "subject": subject } },
    });
    if let (Some(c), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        for (k, v) in extra {
            if v.is_null() {
                c.remove(&k);
            } else {
                c.insert(k, v);
            }
        }
    }
    let token = keys::sign_typed(&claims, &key, Some("secevent+jwt")).map_err(io::Error::other)?;
    Ok((token, jti))
}

/// Posts `token` to `url` once, as a push delivery (`application/secevent+jwt`); the
/// receiver's status, `None` when it did not answer.
pub(crate) async fn post(client: &reqwest::Client, url: &str, token: &str) -> Option<u16> {
    client
        .post(url)
        .header("content-type", "application/secevent+jwt")
        .header("accept", "application/json")
        .body(token.to_owned())
        .timeout(ATTEMPT_TIMEOUT)
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// Delivers `event_type` about `persona` to the configured receiver, retrying as ID.me does.
pub(crate) async fn send(
    shared: &Shared,
    event_type: &str,
    persona: Persona,
) -> io::Result<SentEvent> {
    let receiver = lock(&shared.events).receiver.clone().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "no events receiver is set (Emulator::set_events_receiver)",
        )
    })?;
    let (token, jti) = token(shared, event_type, persona, &receiver.audience, Value::Null).await?;
    let client = reqwest::Client::new();
    let mut statuses = Vec::with_capacity(RETRIES + 1);
    let mut backoff = FIRST_BACKOFF;
    for attempt in 0..=RETRIES {
        if attempt > 0 {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        let status = post(&client, &receiver.url, &token).await;
        statuses.push(status);
        if status.is_some_and(|s| (200..300).contains(&s)) {
            break;
        }
    }
    let sent = SentEvent {
        event_type: event_type.to_owned(),
        sub: persona.sub().to_owned(),
        jti,
        statuses,
    };
    tracing::info!(
        event_type,
        sub = persona.sub(),
        attempts = sent.attempts(),
        delivered = sent.delivered(),
        "idme-testkit sent a security event"
    );
    let mut events = lock(&shared.events);
    if events.sent.len() == SENT_KEPT {
        events.sent.pop_front();
    }
    events.sent.push_back(sent.clone());
    Ok(sent)
}

/// The deliveries made so far, oldest first.
pub(crate) fn sent(shared: &Shared) -> Vec<SentEvent> {
    lock(&shared.events).sent.iter().cloned().collect()
}

impl crate::Emulator {
    /// The `iss` of the emulator's security events ([`EVENTS_ISSUER`], as ID.me's).
    pub fn events_issuer(&self) -> String {
        self.shared().events_issuer.clone()
    }

    /// The URL of the emulator's events JWKS: what a relying party configures as ID.me's
    /// SSF JWKS URL.
    pub fn events_jwks_url(&self) -> String {
        format!("{}{EVENTS_JWKS_PATH}", self.base_url())
    }

    /// Sets (or, with `None`, clears) where security events are delivered.
    pub fn set_events_receiver(&self, receiver: Option<EventsReceiver>) {
        lock(&self.shared().events).receiver = receiver;
    }

    /// A signed Security Event Token saying that `event_type` (see [`risc`]) happened to
    /// `persona`, for `audience`: `iss`, `aud`, `iat`, a fresh `jti`, the subject as RFC 9493
    /// `sub_id` and RISC `subject` (`iss_sub`: the OpenID issuer and the person's `sub`),
    /// header `typ: secevent+jwt`, signed RS256 with the events key. `extra` (a JSON object)
    /// is merged over the claims, a `null` member removing one.
    ///
    /// # Errors
    /// The events key cannot be made or used.
    pub async fn security_event_token(
        &self,
        event_type: &str,
        persona: Persona,
        audience: &str,
        extra: Value,
    ) -> io::Result<String> {
        Ok(token(self.shared(), event_type, persona, audience, extra)
            .await?
            .0)
    }

    /// Delivers `event_type` (see [`risc`]) about `persona` to the
    /// [receiver](Self::set_events_receiver) as ID.me does: one `POST` of
    /// `application/secevent+jwt`, retried [`RETRIES`] times (backing off from 100 ms) until
    /// the receiver answers `2xx`. Returns what happened, which is also recorded
    /// ([`sent_security_events`](Self::sent_security_events)).
    ///
    /// # Errors
    /// No receiver is set, or the events key cannot be made.
    pub async fn send_security_event(
        &self,
        event_type: &str,
        persona: Persona,
    ) -> io::Result<SentEvent> {
        send(self.shared(), event_type, persona).await
    }

    /// Posts `token` to `url` once as a push delivery; the receiver's status.
    ///
    /// # Errors
    /// The receiver cannot be reached.
    pub async fn post_security_event_token(&self, url: &str, token: &str) -> io::Result<u16> {
        post(&reqwest::Client::new(), url, token)
            .await
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotConnected, "the receiver did not answer")
            })
    }

    /// The security events delivered (or tried) so far, oldest first (the latest 256).
    pub fn sent_security_events(&self) -> Vec<SentEvent> {
        sent(self.shared())
    }

    /// Makes a new events signing key current; the old one stays in the events JWKS.
    ///
    /// # Errors
    /// The key cannot be generated.
    pub async fn rotate_events_key(&self) -> io::Result<()> {
        rotate(self.shared()).await
    }
}
