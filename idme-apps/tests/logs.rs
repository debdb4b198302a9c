//! No app token, refresh token or device code in a log line, a span's fields (the
//! `idme.app_token` spans, printed as they close) or a `Debug` output, through
//! a whole device flow, a rotation, a reuse and bearer requests. Its own test binary: the
//! log capture is per thread, and other tests running beside it would share callsites.

mod common;

use std::sync::{Arc, Mutex};

use common::apps::*;

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

#[tokio::test]
async fn no_token_or_code_appears_in_a_log_line_or_debug() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        // Each span's fields as it closes (outcome included): checked for tokens too.
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let pair = rig().await;
    let codes = device_code(&pair, DEVICE, None).await;
    let (_, tokens) = approved(&pair, DEVICE, None).await;
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    let rotated = refresh(&pair, DEVICE, rt).await;
    // Within the reuse interval the same tokens come back; past it, reuse revokes.
    let retried = refresh(&pair, DEVICE, rt).await;
    assert_eq!(retried.body, rotated.body);
    pair.advance(std::time::Duration::from_secs(10));
    let reused = refresh(&pair, DEVICE, rt).await;
    let ok = bearer(&pair, json(&rotated)["access_token"].as_str().unwrap()).await;
    let bad = bearer(&pair, at).await.unwrap_err();
    let mut debug = format!("{rotated:?} {reused:?} {ok:?} {bad:?}");
    debug.push_str(&format!("{:?}", pair.idme));
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("app tokens issued"),
        "the flow was logged: {text}"
    );
    assert!(
        text.contains("idme.app_token{idme.grant_type=\"device_code\" idme.outcome=\"issued\""),
        "the token request is a span with its outcome: {text}"
    );
    let new = json(&rotated);
    let secrets = [
        at,
        rt,
        new["access_token"].as_str().unwrap(),
        new["refresh_token"].as_str().unwrap(),
        codes["device_code"].as_str().unwrap(),
    ];
    for secret in secrets {
        // The secret half: the family id before the dot is an index, not a credential.
        let secret_part = secret.rsplit('.').next().unwrap();
        assert!(!text.contains(secret_part), "a token in the logs");
        assert!(!debug.contains(secret_part), "a token in Debug: {debug}");
    }
}
