//! The engine's `tracing` spans: one per sign-in, refresh and logout, and one per call to
//! the provider (a child of the span it happens in). Their names and fields are listed in
//! [`metrics`](crate::metrics); attribute names follow OpenTelemetry's semantic
//! conventions where one exists (`http.request.method`, `server.address`, `url.path`,
//! `http.response.status_code`, `error.type`), and `otel.status_code` tells an
//! OpenTelemetry exporter whether the span failed.
//!
//! Fields are declared empty when the span is made and recorded once known. No field ever
//! holds a token, a code, a secret, a cookie, a user id or a URL's query.

use tracing::Span;
use tracing::field::Empty;

/// The span of one callback (`idme.sign_in`).
pub(crate) fn sign_in() -> Span {
    tracing::info_span!(
        target: "idme::flow",
        "idme.sign_in",
        idme.outcome = Empty,
        otel.status_code = Empty,
    )
}

/// The span of one token refresh at the provider (`idme.refresh`).
pub(crate) fn refresh() -> Span {
    tracing::info_span!(
        target: "idme::session",
        "idme.refresh",
        idme.outcome = Empty,
        otel.status_code = Empty,
    )
}

/// The span of one logout (`idme.logout`); `kind` is `logout`, `logout_everywhere` or
/// `backchannel`.
pub(crate) fn logout(kind: &'static str) -> Span {
    tracing::info_span!(
        target: "idme::logout",
        "idme.logout",
        idme.logout.kind = kind,
        idme.outcome = Empty,
        otel.status_code = Empty,
    )
}

/// The span of one call to the provider (`idme.provider_request`): `endpoint` is an
/// `Endpoint::as_str`, `host` and `path` those of the request's URL (never its query).
pub(crate) fn provider_request(
    endpoint: &'static str,
    method: &str,
    host: &str,
    path: &str,
) -> Span {
    tracing::info_span!(
        target: "idme::provider",
        "idme.provider_request",
        otel.kind = "client",
        idme.endpoint = endpoint,
        http.request.method = method,
        server.address = host,
        url.path = path,
        http.response.status_code = Empty,
        error.type = Empty,
        idme.duration_ms = Empty,
        otel.status_code = Empty,
    )
}

/// Records `outcome` on `span`, and whether it is a failure for OpenTelemetry.
pub(crate) fn outcome(span: &Span, outcome: &'static str, ok: bool) {
    span.record("idme.outcome", outcome);
    span.record("otel.status_code", if ok { "OK" } else { "ERROR" });
}

/// Ends a sign-in: counts it in `idme_sign_ins_total` and records its outcome on `span`.
pub(crate) fn finish_sign_in(span: &Span, outcome: crate::metrics::SignInOutcome) {
    crate::metrics::sign_in(outcome);
    let ok = outcome == crate::metrics::SignInOutcome::Success;
    self::outcome(span, outcome.as_str(), ok);
}
