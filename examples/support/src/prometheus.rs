//! `METRICS_ADDR`: when set, the engine's metrics (see `idme_core::metrics` and
//! `idme_apps::metrics`) in Prometheus text format at `GET /metrics` on that address, a
//! listener of its own: never on `BIND_ADDR`, so the public side never shows them.

use std::net::SocketAddr;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::StartError;

/// The buckets (seconds) of `idme_provider_request_duration_seconds`: a Prometheus
/// histogram rather than a summary, so instances can be added up.
const PROVIDER_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder's histograms are folded (its upkeep).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// `METRICS_ADDR`, checked: `None` when unset or blank; an error when it is not
/// `ip:port`, or when it is the app's own `bind` address (or port, with either address
/// unspecified).
pub fn metrics_addr(
    value: Option<&str>,
    bind: SocketAddr,
) -> Result<Option<SocketAddr>, StartError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let addr: SocketAddr = value
        .parse()
        .map_err(|e| format!("METRICS_ADDR must be host:port, e.g. 127.0.0.1:9000 ({e})"))?;
    let same_ip =
        addr.ip() == bind.ip() || addr.ip().is_unspecified() || bind.ip().is_unspecified();
    if same_ip && addr.port() == bind.port() {
        return Err("METRICS_ADDR must differ from BIND_ADDR: metrics are never served on the public listener".into());
    }
    Ok(Some(addr))
}

/// Installs the Prometheus recorder and serves `GET /metrics` on `addr` (bound before
/// this returns, so a taken address fails the start). Returns the bound address.
pub async fn serve(addr: SocketAddr) -> Result<SocketAddr, StartError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("METRICS_ADDR: cannot listen on {addr} ({e})"))?;
    let bound = listener.local_addr()?;
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(idme_core::metrics::PROVIDER_REQUEST_DURATION_SECONDS.to_owned()),
            &PROVIDER_BUCKETS,
        )?
        .install_recorder()
        .map_err(|e| format!("METRICS_ADDR: cannot install the Prometheus recorder ({e})"))?;
    tokio::spawn(upkeep(handle.clone()));
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
            }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    tracing::info!("metrics (Prometheus text) on http://{bound}/metrics (METRICS_ADDR)");
    Ok(bound)
}

async fn upkeep(handle: PrometheusHandle) {
    loop {
        tokio::time::sleep(UPKEEP_EVERY).await;
        handle.run_upkeep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_never_on_the_public_listener() {
        let bind: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(metrics_addr(None, bind).unwrap(), None);
        assert_eq!(metrics_addr(Some(" "), bind).unwrap(), None);
        let ok = metrics_addr(Some("127.0.0.1:9000"), bind).unwrap();
        assert_eq!(ok, Some("127.0.0.1:9000".parse().unwrap()));
        for same in ["127.0.0.1:3000", "0.0.0.0:3000"] {
            let e = metrics_addr(Some(same), bind).unwrap_err().to_string();
            assert!(e.contains("METRICS_ADDR must differ from BIND_ADDR"), "{e}");
        }
        let e = metrics_addr(Some("nine thousand"), bind)
            .unwrap_err()
            .to_string();
        assert!(e.contains("METRICS_ADDR must be host:port"), "{e}");
    }
}
