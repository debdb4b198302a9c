//! The provider's key set, when a step asked for it ([`Next::NeedKeys`](super::step::Next)):
//! the JWKS request, how its answer becomes a key snapshot, and how the snapshot goes into
//! the context. The driver answers from the provider's cache (one fetch shared by
//! concurrent logins, refetches rate-limited) or with the provider's answer.

use std::sync::Arc;

use super::step::Ctx;
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::provider::{Outbound, ProviderMetadata};
use crate::validate::key_set::KeySnapshot;

/// The request for the provider's JWKS.
pub(crate) fn request(meta: &ProviderMetadata) -> Result<Outbound, Error> {
    Outbound::get(&meta.jwks_uri, Endpoint::Jwks, None)
}

/// The JWKS answer as the key set `wanted` asked for, received at `now`: how a test
/// drives a flow by hand (the driver gets key sets through the provider's shared cache).
#[cfg(test)]
pub(crate) fn read(
    response: crate::http_client::HttpResponse,
    wanted: crate::validate::jws::KeysWanted,
    now: u64,
) -> Result<Arc<KeySnapshot>, Error> {
    use crate::validate::jws::KeysWanted;
    let generation = match wanted {
        KeysWanted::Current => 1,
        KeysWanted::Newer(seen) => seen + 1,
    };
    Ok(Arc::new(KeySnapshot::new(
        crate::provider::jwks::read_jwks(response)?,
        generation,
        now,
    )))
}

/// Puts the key set the driver got into `ctx`; `None` (a refetch refused as too soon after
/// the last one) fails the verification that asked.
pub(crate) fn put(ctx: &mut Ctx<'_>, keys: Option<Arc<KeySnapshot>>) -> Result<(), Error> {
    let keys = keys.ok_or(ProviderMisbehaved::UnknownSigningKey)?;
    ctx.keys = Some(keys);
    Ok(())
}
