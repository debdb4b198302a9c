//! A session that ends while a request holds it stays ended: the request's last-seen
//! update must not re-create it.

use std::sync::Arc;
use std::time::Duration;

use crate::cookies::RequestCookies;
use crate::http_client::{HttpClientError, HttpClientErrorKind, HttpRequest};
use crate::session::Session;
use crate::store::{LockingStore, MemoryStore, Record, SessionIndex, SessionStore, StoreError};
use crate::{CookieKeys, Environment, Idme, IdmeBuilder};
use async_trait::async_trait;

/// A store where every session is logged out (elsewhere) just after it was loaded.
#[derive(Debug, Default)]
struct LoggedOutAfterLoad(MemoryStore);

#[async_trait]
impl SessionStore for LoggedOutAfterLoad {
    async fn load(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let found = self.0.load(id).await?;
        self.0.delete(id).await?;
        Ok(found)
    }
    async fn save(&self, record: &Record) -> Result<(), StoreError> {
        self.0.save(record).await
    }
    async fn update(&self, record: &Record) -> Result<bool, StoreError> {
        self.0.update(record).await
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.0.delete(id).await
    }
}

#[async_trait]
impl SessionIndex for LoggedOutAfterLoad {
    async fn delete_by_sub(&self, sub: &str) -> Result<u64, StoreError> {
        self.0.delete_by_sub(sub).await
    }
    async fn delete_by_provider_sid(&self, sid: &str) -> Result<u64, StoreError> {
        self.0.delete_by_provider_sid(sid).await
    }
}

#[async_trait]
impl LockingStore for LoggedOutAfterLoad {
    async fn lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.0.lock(key, owner, ttl).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.0.release(key, owner).await
    }
}

#[tokio::test]
async fn a_last_seen_update_does_not_bring_back_a_logged_out_session() {
    let store = Arc::new(LoggedOutAfterLoad::default());
    let config = IdmeBuilder::new()
        .environment(Environment::Custom("http://127.0.0.1:9/oidc".into()))
        .client_id("c")
        .client_secret("s")
        .redirect_uri("http://127.0.0.1:8080/auth/callback")
        .cookie_keys(CookieKeys::random())
        .session_idle_timeout(Duration::from_secs(900))
        .session_store(store.clone())
        .build()
        .unwrap();
    // No network is involved: a client that fails every call.
    let offline = |_: HttpRequest| async {
        Err(HttpClientError::new(
            HttpClientErrorKind::Network,
            "offline",
        ))
    };
    let idme = Idme::with_http_client(config, offline);
    let now = crate::clock::system_now();
    // Last seen two minutes ago: this request re-issues the last-seen time.
    let session = Session {
        expires_at: now + 3600,
        ..Session::for_tests("sid-last-seen-race-0123456789", "sub", now - 120)
    };
    store
        .0
        .save(&session.to_record(idme.config()))
        .await
        .unwrap();
    let set = session.to_cookies(idme.config(), &RequestCookies::default(), now);
    let header = format!("{}={}", set[0].name, set[0].value);
    let cookies = RequestCookies::from_header_values([header.as_str()]);

    let denied = idme
        .authenticate(&cookies)
        .await
        .expect_err("the session ended while the request held it");
    assert!(!denied.is_unavailable());
    assert!(
        store.0.is_empty(),
        "the last-seen update re-created the record"
    );
}
