//! The adapter contract's case for metrics: a sign-in and a logout through the adapter's
//! own routes are counted (`idme_sign_ins_total`, `idme_sessions_ended_total`), read back
//! with a recorder installed for the test's thread. Expanded inside
//! [`adapter_contract!`]'s module, whose helpers it uses; the invoking crate needs the
//! `metrics` and `metrics-util` crates as dev-dependencies.

/// The case, for [`adapter_contract!`](crate::adapter_contract) (not for direct use).
#[doc(hidden)]
#[macro_export]
macro_rules! __metrics_contract {
    (test = $test:meta) => {
        #[$test]
        async fn contract_a_sign_in_and_a_logout_through_the_adapter_are_counted() {
            let recorder = ::metrics_util::debugging::DebuggingRecorder::new();
            let snapshots = recorder.snapshotter();
            let _on_this_thread = ::metrics::set_default_local_recorder(&recorder);
            let emu = emulator().await;
            let idme = engine(builder(&emu));
            let cookie = sign_in(&idme).await;
            let me = send(
                &idme,
                Call::get("/me").api().header("cookie", cookie.clone()),
            )
            .await;
            assert_eq!(me.status, 200, "{}", me.body);
            let logout = Call::post("/auth/logout").header("cookie", cookie);
            let res = send(&idme, logout.header("origin", ORIGIN)).await;
            assert_eq!(res.status, 303, "{}", res.body);

            let counted = snapshots.snapshot().into_vec();
            let count = |name: &str, label: &str, value: &str| {
                let found = counted.iter().find(|(key, _, _, _)| {
                    let key = key.key();
                    key.name() == name
                        && key.labels().any(|l| l.key() == label && l.value() == value)
                });
                match found {
                    Some((_, _, _, ::metrics_util::debugging::DebugValue::Counter(n))) => *n,
                    _ => 0,
                }
            };
            let metrics = (idme_core::metrics::SIGN_INS_TOTAL, "outcome", "success");
            assert_eq!(count(metrics.0, metrics.1, metrics.2), 1, "{counted:?}");
            let metrics = (idme_core::metrics::SESSIONS_ENDED_TOTAL, "reason", "logout");
            assert_eq!(count(metrics.0, metrics.1, metrics.2), 1, "{counted:?}");
        }
    };
}
