//! A person's grants of one client, indexed in the app store (`i.<sha256(sub, client
//! id)>`: each grant's id, start and end, sealed like every value there), so that a
//! person holds at most [`AppClients::max_grants_per_client`](crate::AppClients::max_grants_per_client)
//! live grants per client: the grant past it revokes the person's oldest.
//!
//! Every live grant is listed: the index is written, under a lock (in this process, then
//! in the store for other instances), before the grant is saved. The index record is
//! filed under the person's `sub`, so a sign-out revoking by `sub` takes it with the
//! grants. A grant revoked otherwise (RFC 7009, provider session, reuse) stays listed
//! until it ends or is pushed out; pushing it out revokes nothing alive, and the cap
//! still bounds the live ones.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::codes::hash;
use super::grant;
use super::oauth::OAuthError;
use super::registry::Contended;
use super::{Apps, tokens};
use idme_core::CookieKeys;
use idme_core::session::store::StoreError;

/// How long an index update may hold the store's lock.
const INDEX_LOCK: Duration = Duration::from_secs(5);

/// The grants of one person and client, oldest first.
#[derive(Clone, Default, Serialize, Deserialize)]
struct GrantIndex {
    grants: Vec<Listed>,
}

/// One grant in the index.
#[derive(Clone, Serialize, Deserialize)]
struct Listed {
    id: String,
    created_at: u64,
    expires_at: u64,
}

/// The index record id of `sub`'s grants of `client_id`.
fn index_id(sub: &str, client_id: &str) -> String {
    format!("i.{}", hash(&format!("{}:{sub}{client_id}", sub.len())))
}

/// Lists the grant `id` (from `now` to `expires_at`) among `sub`'s grants of
/// `client_id`, revoking the oldest past the cap. Called before the grant is saved.
pub(crate) async fn admit(
    apps: &Apps,
    keys: &CookieKeys,
    sub: &str,
    client_id: &str,
    id: &str,
    now: u64,
    expires_at: u64,
) -> Result<(), OAuthError> {
    let index = index_id(sub, client_id);
    let lock = apps
        .exclusive(&format!("{index}.lock"), INDEX_LOCK)
        .await
        .map_err(|e| match e {
            Contended::Busy => OAuthError::busy(),
            Contended::Down(e) => OAuthError::unavailable(&e),
        })?;
    let listed = Listed {
        id: id.to_owned(),
        created_at: now,
        expires_at,
    };
    let outcome = update(apps, keys, &index, sub, client_id, listed, now).await;
    lock.release().await;
    outcome.map_err(|e| OAuthError::unavailable(&e))
}

async fn update(
    apps: &Apps,
    keys: &CookieKeys,
    index_id: &str,
    sub: &str,
    client_id: &str,
    listed: Listed,
    now: u64,
) -> Result<(), StoreError> {
    let mut index = match apps.store.load(index_id).await? {
        // An index no key opens lists grants no key opens either: none alive.
        Some(record) => grant::open::<GrantIndex>(keys, &record).unwrap_or_default(),
        None => GrantIndex::default(),
    };
    index.grants.retain(|g| g.expires_at > now);
    index.grants.push(listed);
    // Instances' clocks may differ a little: oldest first all the same.
    index.grants.sort_by_key(|g| g.created_at);
    let excess = index
        .grants
        .len()
        .saturating_sub(apps.clients.max_grants_per_client);
    for oldest in index.grants.drain(..excess) {
        tokens::revoke_family(apps, &oldest.id).await?;
        tracing::info!(target: "idme::apps", sub, client_id, "oldest grant revoked: too many grants for this client");
    }
    let until = index
        .grants
        .iter()
        .map(|g| g.expires_at)
        .max()
        .unwrap_or(now);
    let record = grant::seal(keys, index_id.to_owned(), sub, None, until, &index);
    apps.store.save(&record).await
}

#[cfg(test)]
mod tests {
    use super::index_id;

    #[test]
    fn index_ids_tell_people_and_clients_apart() {
        assert_ne!(index_id("ab", "c"), index_id("a", "bc"));
        assert_ne!(index_id("a", "tv"), index_id("b", "tv"));
        assert_eq!(index_id("a", "tv"), index_id("a", "tv"));
    }
}
