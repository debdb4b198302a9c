//! The token endpoint: client authentication, code redemption with PKCE, refresh with rotation.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::Params;
use crate::faults::{Fault, Faults};
use crate::oauth::{json_error, no_store};
use crate::persona::Persona;
use crate::state::{ACCESS_TTL_SECS, Endpoint, REFRESH_TTL_SECS, Redeem, Shared};
use crate::tokens::{self, Channel, IdTokenInput};
use crate::util::{is_pkce_string, s256};

/// A failed token request: status, error code, description.
type Failure = (StatusCode, &'static str, String);

fn bad(error: &'static str, description: impl Into<String>) -> Failure {
    (StatusCode::BAD_REQUEST, error, description.into())
}

fn unauthorized(description: impl Into<String>) -> Failure {
    (
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        description.into(),
    )
}

/// `POST /oauth/token`
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.stats.hit(Endpoint::Token);
    let faults = shared.faults();
    if let Some(delay) = faults.slow_token() {
        tokio::time::sleep(delay).await;
    }
    if let Some((status, body)) = faults.token_error() {
        return raw(status, body);
    }
    match handle(&shared, &faults, &headers, &body).await {
        Ok(response) => {
            let mut response = Json(response).into_response();
            no_store(&mut response);
            response
        }
        Err((status, error, description)) => json_error(status, error, &description),
    }
}

/// The answer of [`Fault::TokenError`](crate::Fault::TokenError): exactly the given status and body.
fn raw(status: u16, body: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if serde_json::from_str::<Value>(body).is_ok() {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut response = (status, body.to_owned()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    no_store(&mut response);
    response
}

async fn handle(
    shared: &Shared,
    faults: &Faults,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Failure> {
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let is_form = content_type.to_str().is_ok_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        if !is_form {
            return Err(bad(
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            ));
        }
    }
    let params = Params::parse(body);
    if let Some(name) = params.first_repeated() {
        return Err(bad(
            "invalid_request",
            format!("parameter {name} is repeated"),
        ));
    }
    let client_id = authenticate(shared, headers, &params)?;
    match params.get("grant_type") {
        None => Err(bad("invalid_request", "grant_type is missing")),
        Some("authorization_code") => authorization_code(shared, faults, &client_id, &params).await,
        Some("refresh_token") => refresh_token(shared, faults, &client_id, &params).await,
        Some(other) => Err(bad(
            "unsupported_grant_type",
            format!("grant_type {other:?} is not supported"),
        )),
    }
}

/// Client authentication: exactly one of HTTP Basic (RFC 6749 §2.3.1, form-urlencoded id and secret) and
/// `client_secret_post`. Returns the authenticated client id.
fn authenticate(shared: &Shared, headers: &HeaderMap, params: &Params) -> Result<String, Failure> {
    if shared.public_client {
        return super::native::authenticate_public(shared, headers, params).map_err(unauthorized);
    }
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(
            parse_basic(value).ok_or_else(|| unauthorized("malformed HTTP Basic credentials"))?,
        ),
    };
    let (id, secret) = match (basic, params.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(unauthorized("use exactly one client authentication method"));
        }
        (None, None) => return Err(unauthorized("client authentication is required")),
        (Some((id, secret)), None) => {
            if params.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(unauthorized(
                    "client_id in the body differs from the authenticated client",
                ));
            }
            (id, secret)
        }
        (None, Some(secret)) => {
            let id = params
                .get("client_id")
                .ok_or_else(|| unauthorized("client_id is missing"))?;
            (id.to_owned(), secret.to_owned())
        }
    };
    if id != shared.client_id || secret != shared.client_secret {
        return Err(unauthorized("unknown client or wrong secret"));
    }
    Ok(id)
}

/// Decodes `Basic base64(urlencode(id):urlencode(secret))`.
fn parse_basic(value: &HeaderValue) -> Option<(String, String)> {
    let value = value.to_str().ok()?;
    let (scheme, credentials) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(credentials.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Decodes one `application/x-www-form-urlencoded` value.
fn form_decode(value: &str) -> Option<String> {
    if value.contains('&') {
        return None;
    }
    let input = format!("v={value}");
    let decoded = url::form_urlencoded::parse(input.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned());
    Some(decoded.unwrap_or_default())
}

async fn authorization_code(
    shared: &Shared,
    faults: &Faults,
    client_id: &str,
    params: &Params,
) -> Result<Value, Failure> {
    let code = params
        .get("code")
        .ok_or_else(|| bad("invalid_request", "code is missing"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| bad("invalid_request", "redirect_uri is missing"))?;
    let verifier = params.get("code_verifier");

    let (grant, access_token, refresh_token) = {
        let mut store = shared.store();
        if let Some(verifier) = verifier {
            store.remember_secret(verifier);
        }
        let grant = match store.redeem_code(code, client_id, redirect_uri) {
            Redeem::Ok(grant) => grant,
            Redeem::Unknown => return Err(bad("invalid_grant", "unknown authorization code")),
            Redeem::Replayed => {
                return Err(bad(
                    "invalid_grant",
                    "the authorization code was already used; tokens issued from it are revoked",
                ));
            }
            Redeem::Refused(why) => return Err(bad("invalid_grant", why)),
        };
        match (grant.code_challenge.as_deref(), verifier) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(bad("invalid_grant", "code_verifier is required (PKCE)"));
            }
            (None, Some(_)) => {
                return Err(bad(
                    "invalid_grant",
                    "code_verifier sent, but the authorization request had no code_challenge",
                ));
            }
            (Some(challenge), Some(verifier)) => {
                if !is_pkce_string(verifier) || s256(verifier) != challenge {
                    return Err(bad(
                        "invalid_grant",
                        "code_verifier does not match the code_challenge",
                    ));
                }
            }
        }
        store.mark_code_used(code);
        let access_token = store.issue_access(grant.persona, Some(code));
        let refresh_token = store.issue_refresh(
            client_id,
            grant.persona,
            &grant.scope,
            grant.auth_time,
            Some(code),
        );
        (grant, access_token, refresh_token)
    };

    let issued = Issued {
        persona: grant.persona,
        scope: &grant.scope,
        nonce: grant.nonce.as_deref(),
        auth_time: grant.auth_time,
        acr: grant.acr.as_deref(),
        access_token: &access_token,
        refresh_token: &refresh_token,
    };
    token_response(shared, faults, issued).await
}

async fn refresh_token(
    shared: &Shared,
    faults: &Faults,
    client_id: &str,
    params: &Params,
) -> Result<Value, Failure> {
    let presented = params
        .get("refresh_token")
        .ok_or_else(|| bad("invalid_request", "refresh_token is missing"))?;
    let requested_scope = params.get("scope");

    let (grant, scope, access_token, refresh_token) = {
        let mut store = shared.store();
        let grant = store
            .take_refresh(presented, client_id, requested_scope)
            .map_err(|(error, why)| bad(error, why))?;
        let scope = requested_scope.map_or_else(|| grant.scope.clone(), normalise_scope);
        let lineage = grant.from_code.clone();
        let access_token = store.issue_access(grant.persona, lineage.as_deref());
        let refresh_token = store.issue_refresh(
            client_id,
            grant.persona,
            &scope,
            grant.auth_time,
            lineage.as_deref(),
        );
        (grant, scope, access_token, refresh_token)
    };

    let issued = Issued {
        persona: grant.persona,
        scope: &scope,
        nonce: None,
        auth_time: grant.auth_time,
        acr: None,
        access_token: &access_token,
        refresh_token: &refresh_token,
    };
    token_response(shared, faults, issued).await
}

fn normalise_scope(scope: &str) -> String {
    scope
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a successful token response hands out.
struct Issued<'a> {
    persona: Persona,
    scope: &'a str,
    nonce: Option<&'a str>,
    auth_time: i64,
    acr: Option<&'a str>,
    access_token: &'a str,
    refresh_token: &'a str,
}

async fn token_response(
    shared: &Shared,
    faults: &Faults,
    issued: Issued<'_>,
) -> Result<Value, Failure> {
    let mut body = Map::new();
    body.insert("access_token".into(), json!(issued.access_token));
    body.insert("token_type".into(), json!("bearer"));
    body.insert("expires_in".into(), json!(ACCESS_TTL_SECS));
    body.insert("refresh_token".into(), json!(issued.refresh_token));
    body.insert("refresh_expires_in".into(), json!(REFRESH_TTL_SECS));
    if faults.has(&Fault::NarrowScope) {
        body.insert("scope".into(), json!("openid"));
    } else if !faults.has(&Fault::OmitScope) {
        body.insert("scope".into(), json!(issued.scope));
    }
    if issued.scope.split(' ').any(|s| s == "openid") {
        let input = IdTokenInput {
            persona: issued.persona,
            nonce: issued.nonce,
            auth_time: issued.auth_time,
            acr: issued.acr,
            code: None,
            access_token: Some(issued.access_token),
            channel: Channel::TokenEndpoint,
        };
        let id_token = tokens::id_token(shared, faults, input).await.map_err(|e| {
            tracing::error!(error = %e, "idme-testkit could not sign an id_token");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the emulator could not sign the id_token".to_owned(),
            )
        })?;
        body.insert("id_token".into(), json!(id_token));
    }
    Ok(Value::Object(body))
}
