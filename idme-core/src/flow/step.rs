//! What the steps of a flow share, as data: the plain values a step is told ([`Ctx`]),
//! what a step gives ([`Next`]: a request to send, a key set to get, or the flow's typed
//! output), the tokens a flow carries ([`Tokens`]) and a signature check's result
//! ([`Checked`]). Nothing here reads a clock, awaits or names a step: each flow is a
//! [`Flow`] whose states are its own, and the driver (`driver`) runs any of them.

use std::sync::Arc;

use crate::config::IdmeConfig;
use crate::error::Error;
use crate::http_client::HttpResponse;
use crate::provider::{Outbound, ProviderMetadata};
use crate::secret::{AccessToken, RefreshToken};
use crate::validate::jws::{Alg, KeysWanted};
use crate::validate::key_set::KeySnapshot;

pub(crate) use crate::validate::accept::unwrap_token;

/// What every step is told, as plain values: the configuration, the issuer, the provider's
/// discovery document and the signing keys at hand (`None` when none are cached). The
/// driver owns it and puts the keys in when a step asked for them.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) config: &'a IdmeConfig,
    pub(crate) issuer: &'a str,
    pub(crate) meta: &'a ProviderMetadata,
    pub(crate) keys: Option<Arc<KeySnapshot>>,
}

impl<'a> Ctx<'a> {
    /// The signature algorithms accepted.
    pub(crate) fn allowed(&self) -> Vec<Alg> {
        crate::validate::accept::allowed_algorithms(self.config)
    }

    /// The HMAC key (the client secret), when HMAC signatures are allowed.
    pub(crate) fn hmac_secret(&self) -> Option<&'a [u8]> {
        crate::validate::accept::hmac_secret(self.config)
    }
}

/// A flow as a state machine: the states that wait for an answer ([`Flow::Awaiting`]),
/// the states that wait for the provider's key set ([`Flow::Verifying`]) and what the flow
/// gives when it is over ([`Flow::Output`]). The states are owned values; handling an
/// input consumes the state and gives the [`Next`] one.
pub(crate) trait Flow {
    /// A state waiting for the answer to the request it asked for.
    type Awaiting: std::fmt::Debug;
    /// A state waiting for a key set to verify what it holds.
    type Verifying: std::fmt::Debug;
    /// What the flow gives.
    type Output;

    /// Goes on with the provider's `response` to the request `state` asked for.
    fn on_response(
        state: Self::Awaiting,
        ctx: &Ctx<'_>,
        response: HttpResponse,
        now: u64,
    ) -> Result<Next<Self>, Error>;

    /// Goes on once the key set `state` asked for is in `ctx`.
    fn on_keys(state: Self::Verifying, ctx: &Ctx<'_>, now: u64) -> Result<Next<Self>, Error>;
}

/// What handling an input gives.
pub(crate) enum Next<F: Flow + ?Sized> {
    /// Send this request and hand its answer to the state beside it.
    Send(Box<Outbound>, F::Awaiting),
    /// Put this key set in the context and hand it to the state beside it.
    NeedKeys(KeysWanted, F::Verifying),
    /// The flow is over.
    Done(F::Output),
}

impl<F: Flow + ?Sized> std::fmt::Debug for Next<F>
where
    F::Output: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Next::Send(request, state) => {
                f.debug_tuple("Send").field(request).field(state).finish()
            }
            Next::NeedKeys(wanted, state) => f
                .debug_tuple("NeedKeys")
                .field(wanted)
                .field(state)
                .finish(),
            Next::Done(output) => f.debug_tuple("Done").field(output).finish(),
        }
    }
}

impl<F: Flow + ?Sized> Next<F> {
    /// Runs this step of a sub-flow `F` inside the flow `G`: its waiting states are wrapped
    /// with `carry` (what `G` keeps meanwhile) by `awaiting` and `verifying`, and its output
    /// goes to `done`.
    pub(crate) fn within<G: Flow + ?Sized, C>(
        self,
        carry: C,
        awaiting: fn(C, F::Awaiting) -> G::Awaiting,
        verifying: fn(C, F::Verifying) -> G::Verifying,
        done: impl FnOnce(C, F::Output) -> Result<Next<G>, Error>,
    ) -> Result<Next<G>, Error> {
        Ok(match self {
            Next::Send(request, state) => Next::Send(request, awaiting(carry, state)),
            Next::NeedKeys(wanted, state) => Next::NeedKeys(wanted, verifying(carry, state)),
            Next::Done(output) => return done(carry, output),
        })
    }
}

/// A signature check with the keys at hand: verified, or a key set is needed first.
#[derive(Debug)]
pub(crate) enum Checked<T> {
    /// Verified.
    Verified(T),
    /// The keys at hand cannot tell: get this key set and check again.
    NeedKeys(KeysWanted),
}

impl<T> From<Result<T, KeysWanted>> for Checked<T> {
    fn from(r: Result<T, KeysWanted>) -> Self {
        match r {
            Ok(v) => Checked::Verified(v),
            Err(wanted) => Checked::NeedKeys(wanted),
        }
    }
}

/// Whether the key set asked for is a refetch for an unknown `kid`: after it, a `kid`
/// still unknown is refused (the keys are fetched once per verification).
pub(crate) fn refetched(wanted: KeysWanted) -> bool {
    matches!(wanted, KeysWanted::Newer(_))
}

/// Tokens of a session.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    pub(crate) access_token: AccessToken,
    pub(crate) refresh_token: Option<RefreshToken>,
    /// Unix seconds.
    pub(crate) access_expires_at: Option<u64>,
}
