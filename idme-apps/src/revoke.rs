//! `POST /auth/revoke` (RFC 7009): a client revokes one of its tokens. A refresh token
//! revokes its whole grant; so does an access token (its refresh token would only
//! mint another).

use super::codes::{hash, same};
use super::oauth::{OAuthError, form, no_store, public_client_only};
use super::{Apps, tokens};
use crate::server::Inner;
use idme_core::Reply;

/// The answer to a revocation request: `200` with an empty body whether or not the
/// token was known.
pub(crate) async fn revoke(
    inner: &Inner<'_>,
    apps: &Apps,
    body: &[u8],
    authorization: Option<&str>,
) -> Reply {
    match run(inner, apps, body, authorization).await {
        Ok(()) => no_store(Reply::empty(200)),
        Err(e) => e.reply(),
    }
}

async fn run(
    inner: &Inner<'_>,
    apps: &Apps,
    body: &[u8],
    authorization: Option<&str>,
) -> Result<(), OAuthError> {
    let params = form(body)?;
    public_client_only(&params, authorization)?;
    let client_id = params
        .get("client_id")
        .ok_or(OAuthError::request("client_id is missing"))?;
    if super::clients::find(&apps.clients, client_id).is_none() {
        return Err(OAuthError::client("unknown client"));
    }
    let token = params
        .get("token")
        .ok_or(OAuthError::request("token is missing"))?;
    let Some(id) = tokens::family_of(token) else {
        return Ok(());
    };
    let now = inner.config.clock.now();
    let unavailable = |e: idme_core::session::store::StoreError| OAuthError::unavailable(&e);
    let Some(family) = tokens::load(apps, &inner.config.cookie_keys, id, now)
        .await
        .map_err(unavailable)?
    else {
        return Ok(());
    };
    let presented = hash(token);
    let ours = same(&family.access_hash, &presented)
        || same(&family.refresh_hash, &presented)
        || family.rotated.iter().any(|h| same(h, &presented));
    // Another client's token is left alone (RFC 7009 §2.1), answered the same.
    if ours && family.client_id == client_id {
        tokens::revoke_family(apps, id).await.map_err(unavailable)?;
        tracing::info!(target: "idme::apps", sub = %family.person.sub, client_id, "app grant revoked");
    }
    Ok(())
}
