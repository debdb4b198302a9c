//! Which grants each web session approved (`w.<sha256(session id)>`: their ids), so that
//! logging out of that browser ends them (and only them). The index is updated under the
//! store's lock, so two approvals at once in one browser are both recorded.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Apps;
use crate::codes::hash;
use crate::grant::{self, Family};
use crate::registry::Contended;
use idme_core::CookieKeys;
use idme_core::session::store::StoreError;

/// Grants one web session may have approved and still be tracked; past it the oldest
/// is revoked rather than forgotten (a grant its session's logout could not find must not
/// live on).
const MAX_PER_SESSION: usize = 64;
/// How long the index update may hold its lock.
const LOCK_TTL: Duration = Duration::from_secs(5);
#[derive(Default, Serialize, Deserialize)]
struct Approved {
    /// Grant ids, oldest first.
    grants: Vec<String>,
}

fn index_id(session: &str) -> String {
    format!("w.{}", hash(session))
}

/// Records that `session` approved the grant `grant_id`.
pub(crate) async fn record(
    apps: &Apps,
    keys: &CookieKeys,
    session: &str,
    grant_id: &str,
    family: &Family,
) -> Result<(), StoreError> {
    let id = index_id(session);
    let lock = apps
        .exclusive(&format!("{id}.lock"), LOCK_TTL)
        .await
        .map_err(|e| match e {
            Contended::Busy => StoreError::new("the web session's approvals are locked"),
            Contended::Down(e) => e,
        })?;
    let outcome = async {
        let mut approved = match apps.store.load(&id).await? {
            Some(record) => grant::open::<Approved>(keys, &record).unwrap_or_default(),
            None => Approved::default(),
        };
        approved.grants.push(grant_id.to_owned());
        while approved.grants.len() > MAX_PER_SESSION {
            let oldest = approved.grants.remove(0);
            crate::tokens::revoke_family(apps, &oldest).await?;
        }
        // As long as its longest grant could live.
        let until = family.expires_at;
        let person = &family.person;
        let record = grant::seal(
            keys,
            id.clone(),
            &person.sub,
            person.provider_sid.clone(),
            until,
            &approved,
        );
        apps.store.save(&record).await
    }
    .await;
    lock.release().await;
    outcome
}

/// Revokes the grants `session` approved; how many there were.
pub(crate) async fn revoke(
    apps: &Apps,
    keys: &CookieKeys,
    session: &str,
) -> Result<u64, StoreError> {
    let id = index_id(session);
    let Some(record) = apps.store.load(&id).await? else {
        return Ok(0);
    };
    let approved = grant::open::<Approved>(keys, &record).unwrap_or_default();
    for grant in &approved.grants {
        crate::tokens::revoke_family(apps, grant).await?;
    }
    apps.store.delete(&id).await?;
    Ok(approved.grants.len() as u64)
}
