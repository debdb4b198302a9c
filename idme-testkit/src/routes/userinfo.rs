//! Resource endpoints protected by a bearer access token: userinfo and attributes.json.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::faults::Fault;
use crate::oauth::{json_error, no_store};
use crate::persona::Persona;
use crate::state::{Endpoint, Shared, TokenRefusal};
use crate::tokens;

/// Authenticates the bearer token (consuming it when tokens are single-use); the error is the 401 answer.
fn bearer_persona(shared: &Shared, headers: &HeaderMap) -> Result<Persona, Box<Response>> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    let Some(token) = token else {
        return Err(Box::new(json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "a bearer access token is required",
        )));
    };
    shared
        .store()
        .use_access(token, shared.single_use)
        .map_err(|refusal| {
            let why = match refusal {
                TokenRefusal::Unknown => "unknown access token",
                TokenRefusal::Expired => "the access token has expired",
                TokenRefusal::AlreadyUsed => {
                    "the access token was already used (access tokens are single-use)"
                }
            };
            Box::new(json_error(StatusCode::UNAUTHORIZED, "invalid_token", why))
        })
}

/// `GET /api/public/v3/userinfo`: a JSON string literal holding an RS256 JWT, as ID.me answers.
pub(crate) async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    shared.stats.hit(Endpoint::Userinfo);
    let persona = match bearer_persona(&shared, &headers) {
        Ok(persona) => persona,
        Err(response) => return *response,
    };
    let faults = shared.faults();
    let claims = tokens::userinfo_claims(&shared, &faults, persona);
    if faults.has(&Fault::PlainJsonUserinfo) {
        let mut response = Json(claims).into_response();
        no_store(&mut response);
        return response;
    }
    let jwt = match tokens::userinfo_jwt(&shared, &faults, &claims) {
        Ok(jwt) => jwt,
        Err(e) => {
            tracing::error!(error = %e, "idme-testkit could not sign the userinfo response");
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "could not sign userinfo",
            );
        }
    };
    let quoted = serde_json::Value::String(jwt).to_string();
    let body = if faults.has(&Fault::DoubleQuotedUserinfo) {
        serde_json::Value::String(quoted).to_string()
    } else {
        quoted
    };
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    no_store(&mut response);
    response
}

/// `GET /api/public/v3/attributes.json`: attributes and verification status of the persona.
pub(crate) async fn attributes(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    shared.stats.hit(Endpoint::Attributes);
    match bearer_persona(&shared, &headers) {
        Ok(persona) => {
            let mut response = Json(persona.attributes()).into_response();
            no_store(&mut response);
            response
        }
        Err(response) => *response,
    }
}

/// `GET /api/public/v3/policies?client_id=…&client_secret=…`: the policies enabled for the client.
pub(crate) async fn policies(
    State(shared): State<Arc<Shared>>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let id_ok = q.get("client_id") == Some(&shared.client_id);
    let secret_ok = q
        .get("client_secret")
        .is_some_and(|s| *s == shared.client_secret);
    if !(id_ok && secret_ok) {
        let mut r = (
            axum::http::StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "invalid_client"})),
        )
            .into_response();
        no_store(&mut r);
        return r;
    }
    let list: Vec<serde_json::Value> = shared
        .enabled_policies
        .iter()
        .map(|h| serde_json::json!({"handle": h, "name": h}))
        .collect();
    let mut r = Json(list).into_response();
    no_store(&mut r);
    r
}
