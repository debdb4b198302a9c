//! `POST /auth/token` and `POST /auth/device/token`: both serve the three grants
//! (device code, authorization code with PKCE, refresh token) to registered public
//! clients.

use super::metrics::{self, GrantType, Rejection};
use super::oauth::{OAuthError, form, public_client_only};
use super::{Apps, authorize, device, tokens};
use crate::server::Inner;
use idme_core::Reply;
use tracing::Instrument;
use tracing::field::Empty;

/// RFC 8628's grant type.
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The token endpoint's answer to `body`; `authorization` is the request's header.
pub(crate) async fn token(
    inner: &Inner<'_>,
    apps: &Apps,
    body: &[u8],
    authorization: Option<&str>,
) -> Reply {
    let span = tracing::info_span!(
        target: "idme::apps",
        "idme.app_token",
        idme.grant_type = Empty,
        idme.outcome = Empty,
        otel.status_code = Empty,
    );
    let answer = grant(inner, apps, body, authorization)
        .instrument(span.clone())
        .await;
    match answer {
        Ok((grant_type, reply)) => {
            metrics::issued(grant_type);
            span.record("idme.outcome", "issued");
            span.record("otel.status_code", "OK");
            reply
        }
        Err(e) => {
            let reason = Rejection::of_oauth_code(e.code);
            metrics::rejected(reason);
            span.record("idme.outcome", reason.as_str());
            span.record("otel.status_code", "ERROR");
            tracing::debug!(target: "idme::apps", error = e.code, "token request refused");
            e.reply()
        }
    }
}

/// The grant type of a supported `grant_type` parameter.
fn grant_type(param: &str) -> Option<GrantType> {
    match param {
        DEVICE_CODE_GRANT => Some(GrantType::DeviceCode),
        "authorization_code" => Some(GrantType::AuthorizationCode),
        "refresh_token" => Some(GrantType::RefreshToken),
        _ => None,
    }
}

async fn grant(
    inner: &Inner<'_>,
    apps: &Apps,
    body: &[u8],
    authorization: Option<&str>,
) -> Result<(GrantType, Reply), OAuthError> {
    let params = form(body)?;
    let missing = |name: &'static str| OAuthError::request(name);
    let grant_type = params
        .get("grant_type")
        .ok_or(missing("grant_type is missing"))?;
    let Some(kind) = self::grant_type(grant_type) else {
        return Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            "this grant type is not supported",
        ));
    };
    tracing::Span::current().record("idme.grant_type", kind.as_str());
    public_client_only(&params, authorization)?;
    let client_id = params
        .get("client_id")
        .ok_or(missing("client_id is missing"))?;
    if super::clients::find(&apps.clients, client_id).is_none() {
        return Err(OAuthError::client("unknown client"));
    }
    let now = inner.config.clock.now();
    let keys = &inner.config.cookie_keys;
    match grant_type {
        DEVICE_CODE_GRANT => {
            let code = params
                .get("device_code")
                .ok_or(missing("device_code is missing"))?;
            let reply = device::poll(inner, apps, client_id, code, now).await?;
            Ok((kind, reply))
        }
        "authorization_code" => {
            let (Some(code), Some(redirect_uri), Some(verifier)) = (
                params.get("code"),
                params.get("redirect_uri"),
                params.get("code_verifier"),
            ) else {
                return Err(missing("code, redirect_uri and code_verifier are required"));
            };
            let found =
                authorize::redeem(inner, apps, client_id, code, redirect_uri, verifier, now)
                    .await?;
            let spent_until = found.expires_at;
            let issued =
                tokens::issue(apps, keys, client_id, found.scope, found.person, now).await?;
            authorize::remember_spent(inner, apps, code, issued.grant_id(), spent_until, now).await;
            Ok((kind, issued.reply()))
        }
        _ => {
            let token = params
                .get("refresh_token")
                .ok_or(missing("refresh_token is missing"))?;
            let issued = tokens::refresh(apps, keys, client_id, token, now).await?;
            Ok((kind, issued.reply()))
        }
    }
}
