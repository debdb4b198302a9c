//! One token refresh per session across the instances sharing a session store: the first
//! to take the store's lock for the session refreshes; the others wait for the record it
//! writes and use it. A refresh token is single-use (and rotated), so two instances
//! refreshing the same session would end it.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Session;
use crate::config::IdmeConfig;
use crate::secret::random_token;
use crate::store::{SharedStore, StoreError};

/// How often a waiting instance looks at the record.
const POLL: Duration = Duration::from_millis(25);

/// Whose turn it is to refresh a session.
pub(crate) enum Turn {
    /// This instance refreshes; [`Lock::release`] it afterwards.
    Mine(Lock),
    /// Another instance refreshed meanwhile: the session as it stored it.
    Done(Box<Session>),
    /// The session's record is gone: it ended (logout, back-channel logout, expiry).
    Ended,
    /// The store could not be used.
    Down(StoreError),
    /// Another instance held the lock for longer than a refresh can take: keep the session
    /// and try again on a later request.
    Waited,
}

/// The store's lock on one session's refresh.
pub(crate) struct Lock {
    store: Arc<dyn SharedStore>,
    key: String,
    owner: String,
}

impl Lock {
    /// Releases the lock (if it expired meanwhile, another owner's is left alone).
    pub(crate) async fn release(self) {
        if let Err(e) = self.store.release(&self.key, &self.owner).await {
            tracing::warn!(target: "idme::session", error = %e, "refresh lock not released (it expires on its own)");
        }
    }
}

/// What the store now holds for `session`, compared with the refresh token `from`.
enum Stored {
    /// Refreshed by someone: a different refresh token.
    Refreshed(Box<Session>),
    Unchanged,
    Gone,
}

async fn look(
    config: &IdmeConfig,
    store: &dyn SharedStore,
    session: &Session,
    from: &[u8; 32],
) -> Result<Stored, StoreError> {
    let Some(record) = store.load(&session.sid).await? else {
        return Ok(Stored::Gone);
    };
    let Some(stored) = Session::from_record(config, &record) else {
        return Ok(Stored::Gone);
    };
    let token: Option<[u8; 32]> = stored
        .refresh_token
        .as_ref()
        .map(|rt| Sha256::digest(rt.secret().as_bytes()).into());
    Ok(if token.as_ref() == Some(from) {
        Stored::Unchanged
    } else {
        Stored::Refreshed(Box::new(stored))
    })
}

/// Takes this instance's turn to refresh `session` (whose refresh token hashes to
/// `from`), or waits for the instance whose turn it is.
pub(crate) async fn take_turn(
    config: &IdmeConfig,
    store: &Arc<dyn SharedStore>,
    session: &Session,
    from: &[u8; 32],
) -> Turn {
    let key = format!("refresh:{}", session.sid);
    let owner = random_token(16);
    // Longer than a refresh can take: its token call and a userinfo call, each bounded.
    let ttl = config.http_timeout * 2 + Duration::from_secs(1);
    // Waiting is measured on the runtime's clock, like the HTTP timeouts it outlasts.
    let deadline = tokio::time::Instant::now() + ttl + Duration::from_secs(1);
    loop {
        let taken = match store.lock(&key, &owner, ttl).await {
            Ok(taken) => taken,
            Err(e) => return Turn::Down(e),
        };
        // Holder or not, the record says whether the refresh already happened.
        let stored = match look(config, store.as_ref(), session, from).await {
            Ok(stored) => stored,
            Err(e) => {
                if taken {
                    let _ = store.release(&key, &owner).await;
                }
                return Turn::Down(e);
            }
        };
        let lock = Lock {
            store: Arc::clone(store),
            key: key.clone(),
            owner: owner.clone(),
        };
        match (stored, taken) {
            (Stored::Unchanged, true) => return Turn::Mine(lock),
            (Stored::Refreshed(s), taken) => {
                if taken {
                    lock.release().await;
                }
                return Turn::Done(s);
            }
            (Stored::Gone, taken) => {
                if taken {
                    lock.release().await;
                }
                return Turn::Ended;
            }
            (Stored::Unchanged, false) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Turn::Waited;
        }
        tokio::time::sleep(POLL).await;
    }
}
