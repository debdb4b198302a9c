//! `POST /auth/token` and `POST /auth/device/token`: both serve the three grants
//! (device code, authorization code with PKCE, refresh token) to registered public
//! clients.

use super::oauth::{OAuthError, form, param, public_client_only};
use super::{Apps, authorize, device, tokens};
use crate::server::Inner;
use idme_core::Reply;

/// RFC 8628's grant type.
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The token endpoint's answer to `body`; `authorization` is the request's header.
pub(crate) async fn token(
    inner: &Inner<'_>,
    apps: &Apps,
    body: &[u8],
    authorization: Option<&str>,
) -> Reply {
    match grant(inner, apps, body, authorization).await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::debug!(target: "idme::apps", error = e.code, "token request refused");
            e.reply()
        }
    }
}

async fn grant(
    inner: &Inner<'_>,
    apps: &Apps,
    body: &[u8],
    authorization: Option<&str>,
) -> Result<Reply, OAuthError> {
    let params = form(body).ok_or(OAuthError::request("malformed or repeated parameters"))?;
    let missing = |name: &'static str| OAuthError::request(name);
    let grant_type = param(&params, "grant_type").ok_or(missing("grant_type is missing"))?;
    if ![DEVICE_CODE_GRANT, "authorization_code", "refresh_token"].contains(&grant_type) {
        return Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            "this grant type is not supported",
        ));
    }
    public_client_only(&params, authorization)?;
    let client_id = param(&params, "client_id").ok_or(missing("client_id is missing"))?;
    if super::clients::find(&apps.clients, client_id).is_none() {
        return Err(OAuthError::client("unknown client"));
    }
    let now = inner.config.clock.now();
    let keys = &inner.config.cookie_keys;
    match grant_type {
        DEVICE_CODE_GRANT => {
            let code = param(&params, "device_code").ok_or(missing("device_code is missing"))?;
            device::poll(inner, apps, client_id, code, now).await
        }
        "authorization_code" => {
            let (Some(code), Some(redirect_uri), Some(verifier)) = (
                param(&params, "code"),
                param(&params, "redirect_uri"),
                param(&params, "code_verifier"),
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
            Ok(issued.reply())
        }
        _ => {
            let token =
                param(&params, "refresh_token").ok_or(missing("refresh_token is missing"))?;
            Ok(tokens::refresh(apps, keys, client_id, token, now)
                .await?
                .reply())
        }
    }
}
