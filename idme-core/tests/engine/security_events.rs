//! The security-event receiver in memory, with a transmitter that is not the emulator
//! (`SetTransmitter`: its own RSA keys and JWKS, reached through the engine's HTTP client
//! at `https://events.example/jwks`, `TransmitterClient`): every RFC 8935 refusal, replays, key rotation, the
//! effects on the person's sessions (cookie store and session store), the hook, and `503`
//! with a retry.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use idme_core::events::{SecurityEvent, SecurityEventKind, SubjectId};
use idme_core::extension::{Extension, Host, SessionsEnded, SessionsEndedReason};
use idme_core::session::store::StoreError;
use idme_core::{IdmeBuilder, Reply};
use idme_testkit::Persona;
use idme_testkit::pair::{Pair, SwitchableStore};
use idme_testkit::set_transmitter::{SetTransmitter, iss_sub, risc_event};
use serde_json::{Value, json};

const AUDIENCE: &str = "rp-events";
const JWKS_URL: &str = "https://events.example/jwks";

/// An extension recording whose sessions ended, failing while `fail` is set.
#[derive(Debug, Default)]
struct Grants {
    ended: Mutex<Vec<(SessionsEndedReason, Option<String>)>>,
    fail: AtomicBool,
}

/// The extension registered on the engine, sharing its record with the test.
#[derive(Debug)]
struct GrantsExtension(Arc<Grants>);

#[idme_core::async_trait]
impl Extension for GrantsExtension {
    async fn sessions_ended(
        &self,
        _: &dyn Host,
        ended: SessionsEnded<'_>,
    ) -> Result<(), StoreError> {
        if self.0.fail.load(Ordering::SeqCst) {
            return Err(StoreError::new("the grant store is down"));
        }
        let entry = (ended.reason, ended.sub.map(str::to_owned));
        self.0.ended.lock().unwrap().push(entry);
        Ok(())
    }
}

struct Rig {
    pair: Pair,
    transmitter: SetTransmitter,
    seen: Arc<Mutex<Vec<SecurityEvent>>>,
    grants: Arc<Grants>,
}

/// An engine receiving security events from its own transmitter, configured further by
/// `configure`.
async fn rig(configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder) -> Rig {
    let base = Pair::new(|b| b).await;
    let transmitter = SetTransmitter::new(AUDIENCE).unwrap();
    let seen: Arc<Mutex<Vec<SecurityEvent>>> = Arc::default();
    let grants: Arc<Grants> = Arc::default();
    let via = transmitter.client_with(&base.emulator, JWKS_URL);
    let hook = Arc::clone(&seen);
    let extension = GrantsExtension(Arc::clone(&grants));
    let pair = base
        .second_with_engine(
            move |b| {
                configure(b.security_events(AUDIENCE, JWKS_URL).on_security_event(
                    move |e: &SecurityEvent| hook.lock().unwrap().push(e.clone()),
                ))
            },
            move |e| e.http_client(via).extension(extension),
        )
        .unwrap();
    Rig {
        pair,
        transmitter,
        seen,
        grants,
    }
}

impl Rig {
    /// The claims of a SET of RISC event `kind` about the veteran.
    fn claims(&self, kind: &str) -> Value {
        let subject = iss_sub(&self.pair.emulator.issuer(), Persona::Veteran.sub());
        self.transmitter
            .claims(&risc_event(kind), subject, self.pair.now())
    }

    /// A signed SET of `kind` about the veteran.
    fn set(&self, kind: &str) -> String {
        self.transmitter.sign(&self.claims(kind))
    }

    /// `claims` changed by `change`, signed.
    fn set_with(&self, kind: &str, change: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.claims(kind);
        change(&mut claims);
        self.transmitter.sign(&claims)
    }

    async fn post(&self, body: &str) -> Reply {
        self.post_as(Some("application/secevent+jwt"), body.as_bytes())
            .await
    }

    async fn post_as(&self, content_type: Option<&str>, body: &[u8]) -> Reply {
        self.pair
            .idme
            .receive_security_event(content_type, body)
            .await
    }

    fn seen(&self) -> Vec<SecurityEvent> {
        self.seen.lock().unwrap().clone()
    }
}

/// The `err` of a refusal, after checking it is a `400` that is not cached.
fn refused(reply: &Reply) -> String {
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert!(body["description"].is_string(), "{body}");
    body["err"].as_str().unwrap().to_owned()
}

fn accepted(reply: &Reply) {
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn account_disabled_ends_the_persons_cookie_session_and_grants() {
    let rig = rig(|b| b).await;
    let mut browser = rig.pair.sign_in().await;
    assert!(rig.pair.authenticate(&mut browser).await.is_ok());
    accepted(&rig.post(&rig.set("account-disabled")).await);
    assert!(
        rig.pair.authenticate(&mut browser).await.is_err(),
        "the signed-in cookie is refused afterwards"
    );
    let seen = rig.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind, SecurityEventKind::AccountDisabled);
    assert_eq!(seen[0].sub.as_deref(), Some(Persona::Veteran.sub()));
    assert_eq!(
        *rig.grants.ended.lock().unwrap(),
        [(
            SessionsEndedReason::SecurityEvent,
            Some(Persona::Veteran.sub().to_owned())
        )]
    );
    // A new sign-in afterwards is a new session, not refused.
    rig.pair.advance(Duration::from_secs(1));
    let mut again = rig.pair.sign_in().await;
    assert!(rig.pair.authenticate(&mut again).await.is_ok());
}

#[tokio::test]
async fn ending_a_persons_sessions_is_counted() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _on_this_thread = metrics::set_default_local_recorder(&recorder);
    let rig = rig(|b| b).await;
    let _browser = rig.pair.sign_in().await;
    accepted(&rig.post(&rig.set("account-enabled")).await);
    accepted(&rig.post(&rig.set("account-disabled")).await);
    let ended = snapshots
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| {
            let key = key.key();
            key.name() == idme_core::metrics::SESSIONS_ENDED_TOTAL
                && key.labels().any(|l| l.value() == "security_event")
        });
    let ended: Vec<_> = ended.map(|(.., value)| format!("{value:?}")).collect();
    assert_eq!(ended, ["Counter(1)"], "one event that ends access");
}

#[tokio::test]
async fn account_disabled_ends_the_persons_stored_sessions_on_every_instance() {
    // Two instances sharing the store and the cookie keys.
    let (store, keys) = (SwitchableStore::new(), idme_core::CookieKeys::random());
    let shared = |b: IdmeBuilder| b.session_store(store.clone()).cookie_keys(keys.clone());
    let rig = rig(shared).await;
    let other = rig.pair.second(shared).unwrap();
    let mut browser = rig.pair.sign_in().await;
    assert!(other.authenticate(&mut browser).await.is_ok());
    accepted(&rig.post(&rig.set("credential-compromise")).await);
    assert!(rig.pair.authenticate(&mut browser).await.is_err());
    // The other instance's copy is at most `session_store_cache` old.
    rig.pair.advance(Duration::from_secs(2));
    assert!(other.authenticate(&mut browser).await.is_err());
}

#[tokio::test]
async fn an_opaque_subject_reaches_the_hook_and_ends_nothing() {
    let rig = rig(|b| b).await;
    let mut browser = rig.pair.sign_in().await;
    let set = rig.set_with("account-disabled", |c| {
        c["sub_id"] = json!({"format": "opaque", "id": "acct-17"});
        c["txn"] = json!("txn-1");
    });
    accepted(&rig.post(&set).await);
    assert!(
        rig.pair.authenticate(&mut browser).await.is_ok(),
        "not guessed"
    );
    let seen = rig.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind, SecurityEventKind::AccountDisabled);
    assert_eq!(
        seen[0].subject,
        Some(SubjectId::Opaque {
            id: "acct-17".into()
        })
    );
    assert_eq!(
        (seen[0].sub.as_deref(), seen[0].txn.as_deref()),
        (None, Some("txn-1"))
    );
    assert!(rig.grants.ended.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_informative_event_reaches_the_hook_and_ends_nothing() {
    let rig = rig(|b| b).await;
    let mut browser = rig.pair.sign_in().await;
    accepted(&rig.post(&rig.set("identifier-changed")).await);
    assert!(rig.pair.authenticate(&mut browser).await.is_ok());
    let seen = rig.seen();
    assert_eq!(seen[0].kind, SecurityEventKind::IdentifierChanged);
    assert_eq!(seen[0].sub.as_deref(), Some(Persona::Veteran.sub()));
    assert!(seen[0].claims.contains_key("subject"));
}

#[tokio::test]
async fn a_replayed_jti_is_accepted_and_processed_once() {
    for store in [None, Some(SwitchableStore::new())] {
        let rig = rig(|b| match store {
            Some(store) => b.session_store(store),
            None => b,
        })
        .await;
        let set = rig.set("sessions-revoked");
        accepted(&rig.post(&set).await);
        accepted(&rig.post(&set).await);
        assert_eq!(rig.seen().len(), 1, "the hook heard it once");
        assert_eq!(rig.grants.ended.lock().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_store_failure_answers_503_and_the_retry_succeeds() {
    let store = SwitchableStore::new();
    let rig = rig({
        let store = store.clone();
        move |b| b.session_store(store)
    })
    .await;
    let mut browser = rig.pair.sign_in().await;
    let set = rig.set("account-purged");
    store.set_down(true);
    let reply = rig.post(&set).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    store.set_down(false);
    // The grants cannot be ended: the claim on the jti is released, 503 again.
    rig.grants.fail.store(true, Ordering::SeqCst);
    assert_eq!(rig.post(&set).await.status, 503);
    assert!(rig.seen().is_empty(), "the hook waits for the effects");
    rig.grants.fail.store(false, Ordering::SeqCst);
    accepted(&rig.post(&set).await);
    assert!(rig.pair.authenticate(&mut browser).await.is_err());
    assert_eq!(rig.seen().len(), 1);
}

#[tokio::test]
async fn the_cookie_store_answers_503_and_accepts_the_retry() {
    let rig = rig(|b| b).await;
    let set = rig.set("account-disabled");
    rig.grants.fail.store(true, Ordering::SeqCst);
    assert_eq!(rig.post(&set).await.status, 503);
    rig.grants.fail.store(false, Ordering::SeqCst);
    accepted(&rig.post(&set).await);
    assert_eq!(rig.seen().len(), 1);
}

#[tokio::test]
async fn each_refusal_has_its_rfc_8935_error() {
    let rig = rig(|b| b).await;
    let set = rig.set("account-disabled");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong issuer",
            rig.set_with("account-disabled", |c| {
                c["iss"] = json!("https://evil.example")
            }),
            "invalid_issuer",
        ),
        (
            "wrong audience",
            rig.set_with("account-disabled", |c| c["aud"] = json!(["someone-else"])),
            "invalid_audience",
        ),
        (
            "issued in the future",
            rig.set_with("account-disabled", |c| {
                c["iat"] = json!(rig.pair.now() + 3600);
            }),
            "invalid_request",
        ),
        (
            "stale",
            rig.set_with("account-disabled", |c| {
                c["iat"] = json!(rig.pair.now() - 2 * 24 * 3600);
            }),
            "invalid_request",
        ),
        (
            "no jti",
            rig.set_with("account-disabled", |c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            "invalid_request",
        ),
        (
            "no events",
            rig.set_with("account-disabled", |c| {
                c.as_object_mut().unwrap().remove("events");
            }),
            "invalid_request",
        ),
        (
            "typ JWT",
            rig.transmitter
                .sign_typed(Some("JWT"), &rig.claims("account-disabled")),
            "invalid_request",
        ),
        (
            "alg none",
            rig.transmitter.unsigned(&rig.claims("account-disabled")),
            "authentication_failed",
        ),
        ("tampered", tamper(&set), "authentication_failed"),
        (
            "an ID token",
            rig.transmitter.sign_typed(
                Some("JWT"),
                &json!({"iss": rig.pair.emulator.issuer(), "aud": rig.pair.emulator.client_id(),
                        "sub": Persona::Veteran.sub(), "nonce": "n", "iat": rig.pair.now(),
                        "exp": rig.pair.now() + 600}),
            ),
            "invalid_request",
        ),
        (
            "an ID token without typ",
            rig.transmitter.sign_typed(
                None,
                &json!({"iss": "https://events.id.me", "aud": AUDIENCE, "jti": "x",
                        "sub": Persona::Veteran.sub(), "nonce": "n", "iat": rig.pair.now()}),
            ),
            "invalid_request",
        ),
        (
            "the emulator's logout token",
            rig.pair.emulator.logout_token(Persona::Veteran, json!({})),
            "invalid_request",
        ),
        (
            "a JWE",
            "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d".to_owned(),
            "invalid_request",
        ),
        ("garbage", "not a token".to_owned(), "invalid_request"),
    ];
    for (what, token, err) in cases {
        assert_eq!(refused(&rig.post(&token).await), err, "{what}");
    }
    // The content type, with parameters allowed.
    for content_type in [None, Some("application/jwt"), Some("text/plain")] {
        let reply = rig.post_as(content_type, set.as_bytes()).await;
        assert_eq!(refused(&reply), "invalid_request", "{content_type:?}");
    }
    // A 2 MB body is refused unread.
    let huge = vec![b'a'; 2 * 1024 * 1024];
    let reply = rig.post_as(Some("application/secevent+jwt"), &huge).await;
    assert_eq!(refused(&reply), "invalid_request");
    assert!(rig.seen().is_empty(), "nothing refused reached the hook");
    let reply = rig
        .post_as(
            Some("Application/SecEvent+JWT; charset=utf-8"),
            set.as_bytes(),
        )
        .await;
    accepted(&reply);
}

/// `token` with one byte of its signature changed.
fn tamper(token: &str) -> String {
    let (message, signature) = token.rsplit_once('.').unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = b64.decode(signature).unwrap();
    bytes[0] ^= 0xff;
    format!("{message}.{}", b64.encode(bytes))
}

#[tokio::test]
async fn an_unknown_kid_is_fetched_once_then_the_rotated_key_accepted() {
    let rig = rig(|b| b).await;
    accepted(&rig.post(&rig.set("account-enabled")).await);
    assert_eq!(rig.transmitter.jwks_fetches(), 1);
    // Signed with a key the JWKS does not list: one refetch, then invalid_key.
    rig.transmitter.rotate_unpublished().unwrap();
    assert_eq!(
        refused(&rig.post(&rig.set("account-enabled")).await),
        "invalid_key"
    );
    assert_eq!(rig.transmitter.jwks_fetches(), 2);
    // Rate-limited: not fetched again at once.
    assert_eq!(
        refused(&rig.post(&rig.set("account-enabled")).await),
        "invalid_key"
    );
    assert_eq!(rig.transmitter.jwks_fetches(), 2);
    // Published, and past the refetch interval: one refetch, accepted.
    rig.transmitter.publish();
    rig.pair.advance(Duration::from_secs(31));
    accepted(&rig.post(&rig.set("account-enabled")).await);
    assert_eq!(rig.transmitter.jwks_fetches(), 3);
    accepted(&rig.post(&rig.set("account-enabled")).await);
    assert_eq!(rig.transmitter.jwks_fetches(), 3, "cached");
}

#[tokio::test]
async fn a_rotated_key_published_before_use_is_accepted_after_one_refetch() {
    let rig = rig(|b| b).await;
    accepted(&rig.post(&rig.set("account-enabled")).await);
    rig.transmitter.rotate_unpublished().unwrap();
    rig.transmitter.publish();
    accepted(&rig.post(&rig.set("account-enabled")).await);
    assert_eq!(rig.transmitter.jwks_fetches(), 2);
}

#[tokio::test]
async fn the_receiver_is_off_unless_configured() {
    let pair = Pair::new(|b| b).await;
    assert!(
        !idme_core::adapter::Route::all(&pair.idme)
            .contains(&idme_core::adapter::Route::SecurityEvents)
    );
    let reply = pair
        .idme
        .receive_security_event(Some("application/secevent+jwt"), b"a.b.c")
        .await;
    assert_eq!(reply.status, 404);
    let rig = rig(|b| b).await;
    let routes = idme_core::adapter::Route::all(&rig.pair.idme);
    assert!(routes.contains(&idme_core::adapter::Route::SecurityEvents));
    assert_eq!(
        idme_core::adapter::Route::SecurityEvents.path(&rig.pair.idme),
        "/auth/events"
    );
}

#[tokio::test]
async fn an_unreachable_key_set_answers_503_so_the_transmitter_retries() {
    let base = Pair::new(|b| b).await;
    let transmitter = SetTransmitter::new(AUDIENCE).unwrap();
    // The client serves the keys at JWKS_URL only: elsewhere the emulator answers 404.
    let client = transmitter.client_with(&base.emulator, JWKS_URL);
    let missing = "https://events.example/missing-jwks";
    let pair = base
        .second_with_engine(
            move |b| b.security_events(AUDIENCE, missing),
            move |e| e.http_client(client),
        )
        .unwrap();
    let subject = iss_sub(&pair.emulator.issuer(), Persona::Veteran.sub());
    let claims = transmitter.claims(&risc_event("account-disabled"), subject, pair.now());
    let set = transmitter.sign(&claims);
    let reply = pair
        .idme
        .receive_security_event(Some("application/secevent+jwt"), set.as_bytes())
        .await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["err"], "temporarily_unavailable");
}
