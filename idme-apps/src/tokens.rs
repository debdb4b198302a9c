//! The app's own tokens: `<family id>.<secret>`, opaque to clients; the store keeps only
//! their SHA-256. Issuing starts a family; a refresh rotates it (new access and refresh
//! token, the old ones dead); presenting a rotated-away refresh token is reuse and
//! revokes the whole family (RFC 9700 §4.14.2), unless the same client presents the
//! token it just rotated within the reuse interval (a lost response): it gets the same
//! new tokens again. Rotated tokens are derived from the token they replace with a key
//! drawn at each rotation (kept sealed in the family), so the store never holds a token.

use std::time::Duration;

use serde_json::json;

use super::Apps;
use super::codes::{hash, random, same};
use super::grant::{self, Family, Person, ROTATED_KEPT};
use super::oauth::{OAuthError, no_store};
use super::registry::Contended;
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

/// The tokens that replace `replaced` in family `id`: keyed by `key`, so only a holder
/// of both (the family's record, opened, and the replaced token) can make them again.
fn derive(key: &str, id: &str, replaced: &str) -> (String, String) {
    use base64::Engine as _;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let token = |kind: &[u8]| {
        let mut mac = ring::hmac::Context::with_key(&key);
        mac.update(kind);
        mac.update(b"\0");
        mac.update(replaced.as_bytes());
        let tag = mac.sign();
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref());
        format!("{id}.{secret}")
    };
    (token(b"access"), token(b"refresh"))
}

/// Starts a family for `person`, granted `scope` by `client_id`, at `now`; past the
/// person's cap of grants of this client, their oldest is revoked.
pub(crate) async fn issue(
    apps: &Apps,
    keys: &CookieKeys,
    client_id: &str,
    scope: Vec<String>,
    person: Person,
    now: u64,
) -> Result<Issued, OAuthError> {
    let id = random(16);
    let (access, refresh) = (new_token(&id), new_token(&id));
    let lifetime = apps.clients.access_token_lifetime.as_secs();
    let expires_at = now.saturating_add(apps.clients.refresh_lifetime.as_secs());
    super::grant_index::admit(apps, keys, &person.sub, client_id, &id, now, expires_at).await?;
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
        rotated_at: 0,
        rotation_key: String::new(),
        person,
    };
    let unavailable = |e: StoreError| OAuthError::unavailable(&e);
    apps.store
        .save(&to_record(keys, &id, &family))
        .await
        .map_err(unavailable)?;
    if let Some(session) = &family.person.web_session
        && let Err(e) = crate::approvals::record(apps, keys, session, &id, &family).await
    {
        // A grant its web session's logout could not find must not exist.
        revoke_family(apps, &id).await.map_err(unavailable)?;
        return Err(unavailable(e));
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
    let deleted = apps.store.delete(&record_id(id)).await;
    // After the write: a read of the grant before it cannot be kept past this.
    apps.bearers.remove(id);
    deleted
}

/// What a lock that could not be had answers.
fn contended(e: Contended) -> OAuthError {
    match e {
        Contended::Busy => {
            tracing::info!(target: "idme::apps", "grant busy elsewhere: answered 503");
            OAuthError::busy()
        }
        Contended::Down(e) => OAuthError::unavailable(&e),
    }
}

/// `grant_type=refresh_token`: rotates the family of `token`, serialised per family
/// (in-process lock, then the store's lock for other instances). Nothing is locked for
/// a token that is neither the family's current refresh token nor one it rotated away:
/// made-up ids and secrets cost one lookup and hold up no one.
pub(crate) async fn refresh(
    apps: &Apps,
    keys: &CookieKeys,
    client_id: &str,
    token: &str,
    now: u64,
) -> Result<Issued, OAuthError> {
    let unknown = || OAuthError::grant("the refresh token is invalid, expired or revoked");
    let id = family_of(token).ok_or_else(unknown)?;
    let family = load(apps, keys, id, now)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?
        .ok_or_else(unknown)?;
    let presented = hash(token);
    let current = same(&family.refresh_hash, &presented);
    if !current && !family.rotated.iter().any(|h| same(h, &presented)) {
        return Err(unknown());
    }
    // Rotations count against the person's rate for the client; a reuse is never held
    // back from revoking.
    if current && family.client_id == client_id {
        let sub = &family.person.sub;
        if let Err(wait) = apps.throttle.tokens(sub, client_id, now) {
            tracing::warn!(target: "idme::apps", sub = %sub, client_id, "too many refreshes: refused for now");
            return Err(OAuthError::too_many(wait));
        }
    }
    let lock_key = format!("{}.rotate", record_id(id));
    let lock = apps
        .exclusive(&lock_key, ROTATION_LOCK)
        .await
        .map_err(contended)?;
    let outcome = rotate(apps, keys, client_id, id, token, now).await;
    lock.release().await;
    outcome
}

/// The tokens a rotation of `family` gave for `token`, if the same client presents it
/// again within the reuse interval and nothing rotated since.
fn given_again(
    apps: &Apps,
    family: &Family,
    client_id: &str,
    id: &str,
    token: &str,
    now: u64,
) -> Option<Issued> {
    let interval = apps.clients.refresh_reuse_interval.as_secs();
    let last = family.rotated.last()?;
    let recent = !family.rotation_key.is_empty() && now < family.rotated_at + interval;
    if !recent
        || family.client_id != client_id
        || family.access_expires_at <= now
        || !same(last, &hash(token))
    {
        return None;
    }
    let (access, refresh) = derive(&family.rotation_key, id, token);
    let unchanged =
        same(&family.refresh_hash, &hash(&refresh)) && same(&family.access_hash, &hash(&access));
    unchanged.then(|| Issued {
        access,
        refresh,
        expires_in: family.access_expires_at - now,
        scope: family.scope.clone(),
    })
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
    if let Some(again) = given_again(apps, &family, client_id, id, token, now) {
        tracing::info!(target: "idme::apps", sub = %family.person.sub, client_id, "refresh retried within the reuse interval: same tokens");
        return Ok(again);
    }
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
    let rotation_key = random(32);
    let (access, refresh) = derive(&rotation_key, id, token);
    let lifetime = apps.clients.access_token_lifetime.as_secs();
    let old = std::mem::replace(&mut family.refresh_hash, hash(&refresh));
    family.rotated.push(old);
    if family.rotated.len() > ROTATED_KEPT {
        family.rotated.remove(0);
    }
    family.access_hash = hash(&access);
    family.access_expires_at = (now + lifetime).min(family.expires_at);
    family.generation += 1;
    family.rotated_at = now;
    family.rotation_key = rotation_key;
    // Only a family still there: a revocation meanwhile stays.
    let updated = apps.store.update(&to_record(keys, id, &family)).await;
    // The old access token ends here now, whatever the store said.
    apps.bearers.remove(id);
    if !updated.map_err(unavailable)? {
        return Err(unknown());
    }
    Ok(Issued {
        access,
        refresh,
        expires_in: family.access_expires_at - now,
        scope: family.scope,
    })
}

/// Why an access token was refused ([`check_access`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Malformed, unknown, revoked or rotated away.
    Invalid,
    /// Current, but its lifetime is over.
    Expired,
}

/// The family of an access token that is current and unexpired at `now`.
pub(crate) async fn check_access(
    apps: &Apps,
    keys: &CookieKeys,
    token: &str,
    now: u64,
) -> Result<Result<(String, Family), Refused>, StoreError> {
    let Some(id) = family_of(token) else {
        return Ok(Err(Refused::Invalid));
    };
    let Some(family) = load(apps, keys, id, now).await? else {
        return Ok(Err(Refused::Invalid));
    };
    if !same(&family.access_hash, &hash(token)) {
        return Ok(Err(Refused::Invalid));
    }
    if family.access_expires_at <= now {
        return Ok(Err(Refused::Expired));
    }
    Ok(Ok((id.to_owned(), family)))
}
