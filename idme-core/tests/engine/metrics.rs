//! The engine's metrics, read back with a per-test recorder (`metrics-util`'s
//! `DebuggingRecorder`, installed for the test's thread only, so parallel tests do not
//! see each other's counts): each name after the action that records it.

use std::time::Duration;

use idme_core::LoginOptions;
use idme_core::metrics as m;
use idme_testkit::pair::{Callback, Pair, SwitchableStore, signed_in};
use idme_testkit::{Fault, Persona};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// One metric's labels, as `(key, value)` pairs.
type Labels = Vec<(String, String)>;

/// What a recorder saw since the last look: `(name, labels, value)`.
struct Seen(Vec<(String, Labels, DebugValue)>);

impl Seen {
    /// Takes what `snapshots` recorded since its last snapshot.
    fn take(snapshots: &Snapshotter) -> Seen {
        Seen(
            snapshots
                .snapshot()
                .into_vec()
                .into_iter()
                .map(|(key, _, _, value)| {
                    let key = key.key();
                    let labels = key
                        .labels()
                        .map(|l| (l.key().to_owned(), l.value().to_owned()))
                        .collect();
                    (key.name().to_owned(), labels, value)
                })
                .collect(),
        )
    }

    /// The counter `name{label=value}` (0 when never incremented).
    fn counter(&self, name: &str, label: &str, value: &str) -> u64 {
        self.find(name, label, value)
            .map(|v| match v {
                DebugValue::Counter(n) => *n,
                other => panic!("{name} is not a counter: {other:?}"),
            })
            .unwrap_or(0)
    }

    /// How many values the histogram `name{label=value}` recorded.
    fn samples(&self, name: &str, label: &str, value: &str) -> usize {
        self.find(name, label, value)
            .map(|v| match v {
                DebugValue::Histogram(values) => values.len(),
                other => panic!("{name} is not a histogram: {other:?}"),
            })
            .unwrap_or(0)
    }

    fn find(&self, name: &str, label: &str, value: &str) -> Option<&DebugValue> {
        self.0
            .iter()
            .find(|(n, labels, _)| {
                n == name && labels.iter().any(|(k, v)| k == label && v == value)
            })
            .map(|(_, _, v)| v)
    }

    /// Every label value any metric carries (none may be free text).
    fn label_values(&self) -> Vec<&str> {
        let labels = self.0.iter().flat_map(|(_, labels, _)| labels);
        labels.map(|(_, v)| v.as_str()).collect()
    }
}

#[tokio::test]
async fn a_sign_in_is_counted_and_its_provider_calls_timed() {
    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _on_this_thread = metrics::set_default_local_recorder(&recorder);
    let pair = Pair::new(|b| b).await;
    let _browser = pair.sign_in().await;
    let seen = Seen::take(&snapshots);
    assert_eq!(seen.counter(m::SIGN_INS_TOTAL, "outcome", "success"), 1);
    for endpoint in ["discovery", "jwks", "token"] {
        assert!(
            seen.samples(m::PROVIDER_REQUEST_DURATION_SECONDS, "endpoint", endpoint) >= 1,
            "{endpoint} timed"
        );
    }
    let allowed = [
        "success",
        "discovery",
        "jwks",
        "token",
        "userinfo",
        "attributes",
        "policies",
    ];
    for value in seen.label_values() {
        assert!(allowed.contains(&value), "unexpected label value {value}");
    }
}

#[tokio::test]
async fn a_failed_callback_is_counted_by_its_class() {
    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _on_this_thread = metrics::set_default_local_recorder(&recorder);
    let pair = Pair::new(|b| b).await;

    // Cancelled at ID.me.
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let state = callback.param("state").unwrap();
    let denied = Callback::Query(format!("error=access_denied&state={state}"));
    let reply = pair.deliver(&mut browser, &denied).await;
    assert_eq!(reply.status, 403);
    let seen = Seen::take(&snapshots);
    assert_eq!(
        seen.counter(m::SIGN_INS_TOTAL, "outcome", "access_denied"),
        1
    );
    assert_eq!(seen.counter(m::SIGN_INS_TOTAL, "outcome", "success"), 0);

    // A replayed callback.
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let (name, value) = browser.find("__Host-idme_login").expect("a pending cookie");
    assert!(signed_in(&pair.deliver(&mut browser, &callback).await));
    let mut attacker = idme_testkit::pair::Browser::default();
    attacker.put(&name, &value);
    assert_eq!(pair.deliver(&mut attacker, &callback).await.status, 400);
    let seen = Seen::take(&snapshots);
    assert_eq!(seen.counter(m::SIGN_INS_TOTAL, "outcome", "success"), 1);
    assert_eq!(seen.counter(m::SIGN_INS_TOTAL, "outcome", "replayed"), 1);

    // No pending login at all.
    let reply = pair
        .callback_get(&Default::default(), "code=c&state=nothing-started")
        .await;
    assert_eq!(reply.status, 400);
    let seen = Seen::take(&snapshots);
    assert_eq!(
        seen.counter(m::SIGN_INS_TOTAL, "outcome", "invalid_state"),
        1
    );
}

#[tokio::test]
async fn a_refresh_is_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _on_this_thread = metrics::set_default_local_recorder(&recorder);
    // The emulator's access tokens live 300 s: every request is within the margin.
    let pair = Pair::new(|b| b.refresh_margin(Duration::from_secs(400))).await;
    let mut browser = pair.sign_in().await;
    Seen::take(&snapshots);
    assert!(pair.authenticate(&mut browser).await.is_ok());
    let seen = Seen::take(&snapshots);
    assert_eq!(seen.counter(m::REFRESHES_TOTAL, "outcome", "success"), 1);
    assert!(seen.samples(m::PROVIDER_REQUEST_DURATION_SECONDS, "endpoint", "token") >= 1);

    // ID.me down: the session is kept, the refresh counted as the provider's failure.
    let mut browser = pair.sign_in().await;
    Seen::take(&snapshots);
    pair.emulator.set_faults([Fault::TokenError {
        status: 503,
        body: "maintenance".into(),
    }]);
    assert!(pair.authenticate(&mut browser).await.is_ok());
    let seen = Seen::take(&snapshots);
    let outcome = (m::REFRESHES_TOTAL, "outcome");
    assert_eq!(
        seen.counter(outcome.0, outcome.1, "provider_unavailable"),
        1
    );
    pair.emulator.clear_faults();

    // The grant refused: the session ends.
    let mut browser = pair.sign_in().await;
    Seen::take(&snapshots);
    pair.emulator.set_faults([Fault::TokenError {
        status: 400,
        body: r#"{"error":"invalid_grant"}"#.into(),
    }]);
    assert!(pair.authenticate(&mut browser).await.is_err());
    let seen = Seen::take(&snapshots);
    assert_eq!(seen.counter(outcome.0, outcome.1, "refused"), 1);
    assert_eq!(seen.counter(outcome.0, outcome.1, "success"), 0);
}

#[tokio::test]
async fn logouts_and_expiry_count_ended_sessions() {
    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _on_this_thread = metrics::set_default_local_recorder(&recorder);
    let pair = Pair::new(|b| b.session_lifetime(Duration::from_secs(600))).await;
    let mut browser = pair.sign_in().await;
    assert_eq!(pair.logout(&mut browser).await.status, 303);
    let seen = Seen::take(&snapshots);
    assert_eq!(seen.counter(m::SESSIONS_ENDED_TOTAL, "reason", "logout"), 1);

    let _browser = pair.sign_in().await;
    let reply = pair
        .backchannel_logout(Persona::Veteran, serde_json::json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let seen = Seen::take(&snapshots);
    assert_eq!(
        seen.counter(m::SESSIONS_ENDED_TOTAL, "reason", "backchannel"),
        1
    );

    let mut browser = pair.sign_in().await;
    pair.advance(Duration::from_secs(601));
    assert!(pair.authenticate(&mut browser).await.is_err());
    let seen = Seen::take(&snapshots);
    assert_eq!(seen.counter(m::SESSIONS_ENDED_TOTAL, "reason", "expiry"), 1);
    assert_eq!(seen.counter(m::SESSIONS_ENDED_TOTAL, "reason", "logout"), 0);
}

#[tokio::test]
async fn a_failing_store_is_counted_by_operation() {
    let recorder = DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    let _on_this_thread = metrics::set_default_local_recorder(&recorder);
    let store = SwitchableStore::new();
    let pair = Pair::new({
        let store = store.clone();
        // No copy of the session kept in this instance: every request asks the store.
        move |b| b.session_store(store).session_store_cache(Duration::ZERO)
    })
    .await;
    let mut browser = pair.sign_in().await;
    store.set_down(true);
    let denied = pair.authenticate(&mut browser).await.unwrap_err();
    assert!(denied.is_unavailable(), "{:?}", denied.error);
    let seen = Seen::take(&snapshots);
    assert_eq!(seen.counter(m::STORE_ERRORS_TOTAL, "operation", "load"), 1);

    // A sign-in whose session cannot be saved.
    let attempt = pair.attempt(&LoginOptions::new()).await;
    assert_eq!(attempt.reply.status, 503, "{}", attempt.reply.body);
    let seen = Seen::take(&snapshots);
    assert_eq!(seen.counter(m::STORE_ERRORS_TOTAL, "operation", "save"), 1);
    assert_eq!(
        seen.counter(m::SIGN_INS_TOTAL, "outcome", "store_unavailable"),
        1
    );
}
