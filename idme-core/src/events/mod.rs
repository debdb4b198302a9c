//! Security events: the Shared Signals Framework receiver's vocabulary.
//!
//! ID.me tells a relying party that something happened to an account (disabled, purged,
//! a credential compromised, an identifier recycled, …) by pushing Security Event Tokens
//! (RFC 8417, push delivery RFC 8935) to the receiver route (`POST /auth/events`, on when
//! [`IdmeBuilder::security_events`](crate::IdmeBuilder::security_events) or
//! `IDME_EVENTS_AUDIENCE` configures it). The engine verifies each SET
//! ([`Idme::receive_security_event`](crate::Idme::receive_security_event)), ends the
//! person's sessions and app grants for the kinds that
//! [end access](SecurityEventKind::ends_access), and hands every verified event to the
//! application's [`SecurityEventHandler`].
//!
//! This module holds the values (kinds, subjects, events, the refusal codes) and the
//! checks of a SET's claims; it knows nothing of keys, stores or sessions.

mod kind;
pub(crate) mod set;
mod subject;

use std::sync::Arc;

pub use kind::SecurityEventKind;
pub use set::{SET_MAX_AGE, SecurityEvent, SetError};
pub use subject::SubjectId;

/// The application's hook for security events
/// ([`IdmeBuilder::on_security_event`](crate::IdmeBuilder::on_security_event)): called
/// once for every verified event, whatever its kind and whether or not it ended sessions,
/// after its effects (so a person whose account was disabled is already signed out when
/// the hook runs). A replayed SET is not handed over again.
///
/// A closure `Fn(&SecurityEvent)` is a handler; implement the trait for one that awaits
/// (writes to a database, sends an alert):
///
/// ```
/// use idme_core::events::{SecurityEvent, SecurityEventHandler};
///
/// struct Audit;
///
/// #[idme_core::async_trait]
/// impl SecurityEventHandler for Audit {
///     async fn handle(&self, event: &SecurityEvent) {
///         println!("{:?} about {:?}", event.kind, event.subject);
///     }
/// }
/// let builder = idme_core::IdmeBuilder::new().on_security_event(Audit);
/// let builder = builder.on_security_event(|e: &SecurityEvent| println!("{}", e.jti));
/// ```
#[async_trait::async_trait]
pub trait SecurityEventHandler: Send + Sync + 'static {
    /// Handles one verified event.
    async fn handle(&self, event: &SecurityEvent);
}

#[async_trait::async_trait]
impl<F> SecurityEventHandler for F
where
    F: Fn(&SecurityEvent) + Send + Sync + 'static,
{
    async fn handle(&self, event: &SecurityEvent) {
        self(event);
    }
}

/// The configured handler, shared by the configuration's clones.
#[derive(Clone)]
pub(crate) struct SharedHandler(pub(crate) Arc<dyn SecurityEventHandler>);

impl std::fmt::Debug for SharedHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecurityEventHandler")
    }
}
