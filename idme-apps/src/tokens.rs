//! The app's own tokens: `<family id>.<secret>`, opaque to clients; the store keeps only
//! their SHA-256. Issuing starts a family; a refresh rotates it (new access and refresh
//! token, the old ones dead); presenting a rotated-away refresh token is reuse and
//! revokes the whole family (RFC 9700 §4.14.2).

use std::time::Duration;

use serde_json::json;

use super::Apps;
use super::codes::{hash, random, same};
use super::grant::{self, Family, Person, ROTATED_KEPT};
use super::oauth::{OAuthError, no_store};
use idme_core::CookieKeys;
use idme_core::Reply;
use idme_core::session::store::StoreError;

/// Bytes of randomness in a token's secret part.
const SECRET_BYTES: usize = 32;
/// How long a rotation may hold the family's store lock.
const ROTATION_LOCK: Duration = Duration::from_secs(10);

/// Tokens just issued (shown to the client once, never logged).
pub(crate) struct Issued {
    access: String,
    refresh: String,
    expires_in: u64,
    scope: Vec<String>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl Issued {
    /// The id of the grant the tokens belong to.
    pub(crate) fn grant_id(&self) -> &str {
        family_of(&self.access).unwrap_or_default()
    }

    /// The token response (RFC 6749 §5.1).
    pub(crate) fn reply(&self) -> Reply {
        let mut body = json!({
            "access_token": self.access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh,
        });
        if !self.scope.is_empty() {
            body["scope"] = self.scope.join(" ").into();
        }
        no_store(Reply::json(200, &body))
    }
}

/// The record id of family `id`.
fn record_id(family: &str) -> String {
    format!("g.{family}")
}

/// Whether `token` is shaped like one of ours (`<family>.<secret>`, base64url): a JWT
/// (three parts) or an opaque token without a dot is someone else's.
pub(crate) fn has_token_shape(token: &str) -> bool {
    family_of(token).is_some()
}

/// The family id and the whole token, if `token` is shaped like one of ours.
pub(crate) fn family_of(token: &str) -> Option<&str> {
    let (family, secret) = token.split_once('.')?;
    let b64 = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (b64(family) && b64(secret)).then_some(family)
}

fn new_token(family: &str) -> String {
    format!("{family}.{}", random(SECRET_BYTES))
}

/// Starts a family for `person`, granted `scope` by `client_id`, at `now`.
pub(crate) async fn issue(
    apps: &Apps,
    keys: &CookieKeys,
    client_id: &str,
    scope: Vec<String>,
    person: Person,
    now: u64,
) -> Result<Issued, StoreError> {
    let id = random(16);
    let (access, refresh) = (new_token(&id), new_token(&id));
    let lifetime = apps.clients.access_token_lifetime.as_secs();
    let expires_at = now.saturating_add(apps.clients.refresh_lifetime.as_secs());
    let family = Family {
        client_id: client_id.to_owned(),
        scope: scope.clone(),
        access_hash: hash(&access),
        access_expires_at: now + lifetime,
        refresh_hash: hash(&refresh),
        rotated: Vec::new(),
        generation: 0,
        created_at: now,
        expires_at,
        person,
    };
    apps.store.save(&to_record(keys, &id, &family)).await?;
    if let Some(session) = &family.person.web_session
        && let Err(e) = crate::approvals::record(apps, keys, session, &id, &family).await
    {
        // A grant its web session's logout could not find must not exist.
        revoke_family(apps, &id).await?;
        return Err(e);
    }
    tracing::info!(target: "idme::apps", sub = %family.person.sub, client_id, "app tokens issued");
    Ok(Issued {
        access,
        refresh,
        expires_in: lifetime,
        scope,
    })
}

fn to_record(keys: &CookieKeys, id: &str, family: &Family) -> idme_core::session::store::Record {
    grant::seal(
        keys,
        record_id(id),
        &family.person.sub,
        family.person.provider_sid.clone(),
        family.expires_at,
        family,
    )
}

/// The live family `id`, if the store has it and it opens.
pub(crate) async fn load(
    apps: &Apps,
    keys: &CookieKeys,
    id: &str,
    now: u64,
) -> Result<Option<Family>, StoreError> {
    let Some(record) = apps.store.load(&record_id(id)).await? else {
        return Ok(None);
    };
    Ok(grant::open::<Family>(keys, &record).filter(|f| f.expires_at > now))
}

/// Revokes family `id` (every token of it).
pub(crate) async fn revoke_family(apps: &Apps, id: &str) -> Result<(), StoreError> {
    apps.store.delete(&record_id(id)).await
}

/// `grant_type=refresh_token`: rotates the family of `token`, serialised per family
/// (in-process lock, then the store's lock for other instances).
pub(crate) async fn refresh(
    apps: &Apps,
    keys: &CookieKeys,
    client_id: &str,
    token: &str,
    now: u64,
) -> Result<Issued, OAuthError> {
    let unknown = || OAuthError::grant("the refresh token is invalid, expired or revoked");
    let id = family_of(token).ok_or_else(unknown)?;
    let _local = apps.rotation_lock(id).lock().await;
    let lock_key = format!("{}.rotate", record_id(id));
    let owner = random(12);
    let store = &apps.store;
    if !store
        .lock(&lock_key, &owner, ROTATION_LOCK)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?
    {
        return Err(OAuthError::grant(
            "the refresh token is being used concurrently",
        ));
    }
    let outcome = rotate(apps, keys, client_id, id, token, now).await;
    if let Err(e) = store.release(&lock_key, &owner).await {
        tracing::warn!(target: "idme::apps", error = %e, "rotation lock not released (it expires)");
    }
    outcome
}

async fn rotate(
    apps: &Apps,
    keys: &CookieKeys,
    client_id: &str,
    id: &str,
    token: &str,
    now: u64,
) -> Result<Issued, OAuthError> {
    let unknown = || OAuthError::grant("the refresh token is invalid, expired or revoked");
    let unavailable = |e: StoreError| OAuthError::unavailable(&e);
    let mut family = load(apps, keys, id, now)
        .await
        .map_err(unavailable)?
        .ok_or_else(unknown)?;
    let presented = hash(token);
    if family.rotated.iter().any(|h| same(h, &presented)) {
        // A rotated-away token came back: one of its holders is not the client.
        revoke_family(apps, id).await.map_err(unavailable)?;
        tracing::warn!(target: "idme::apps", sub = %family.person.sub, client_id = %family.client_id, "refresh token reused: grant revoked");
        return Err(unknown());
    }
    if !same(&family.refresh_hash, &presented) {
        return Err(unknown());
    }
    if family.client_id != client_id {
        return Err(OAuthError::grant(
            "the refresh token was issued to another client",
        ));
    }
    let (access, refresh) = (new_token(id), new_token(id));
    let lifetime = apps.clients.access_token_lifetime.as_secs();
    let old = std::mem::replace(&mut family.refresh_hash, hash(&refresh));
    family.rotated.push(old);
    if family.rotated.len() > ROTATED_KEPT {
        family.rotated.remove(0);
    }
    family.access_hash = hash(&access);
    family.access_expires_at = (now + lifetime).min(family.expires_at);
    family.generation += 1;
    // Only a family still there: a revocation meanwhile stays.
    if !apps
        .store
        .update(&to_record(keys, id, &family))
        .await
        .map_err(unavailable)?
    {
        return Err(unknown());
    }
    Ok(Issued {
        access,
        refresh,
        expires_in: family.access_expires_at - now,
        scope: family.scope,
    })
}

/// The family of an access token that is current and unexpired at `now`.
pub(crate) async fn check_access(
    apps: &Apps,
    keys: &CookieKeys,
    token: &str,
    now: u64,
) -> Result<Option<(String, Family)>, StoreError> {
    let Some(id) = family_of(token) else {
        return Ok(None);
    };
    let Some(family) = load(apps, keys, id, now).await? else {
        return Ok(None);
    };
    let live = same(&family.access_hash, &hash(token)) && family.access_expires_at > now;
    Ok(live.then(|| (id.to_owned(), family)))
}
