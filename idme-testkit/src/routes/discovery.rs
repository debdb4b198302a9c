//! Discovery document and JWKS.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AUTHORIZE_PATH, JWKS_PATH, LOGOUT_PATH, TOKEN_PATH, USERINFO_PATH};
use crate::faults::Fault;
use crate::oauth::json_error;
use crate::state::{Endpoint, Shared, lock};

/// `GET /oidc/.well-known/openid-configuration`
pub(crate) async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    shared.stats.hit(Endpoint::Discovery);
    if shared.faults().has(&Fault::DiscoveryDown) {
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "discovery is down (fault)",
        );
    }
    let base = &shared.base_url;
    let mut doc = json!({
        "issuer": shared.issuer,
        "authorization_endpoint": format!("{base}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{base}{TOKEN_PATH}"),
        "userinfo_endpoint": format!("{base}{USERINFO_PATH}"),
        "jwks_uri": format!("{base}{JWKS_PATH}"),
        "response_types_supported": [
            "code", "token", "id_token", "code id_token", "code token", "id_token token", "code id_token token"
        ],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid"],
        "claims_supported": [
            "iss", "aud", "sub", "exp", "iat", "auth_time", "acr", "nonce", "at_hash", "c_hash", "uuid", "fname",
            "lname", "email", "emails_confirmed", "birth_date", "zip", "level_of_assurance", "credential_ial",
            "credential_aal", "multifactor"
        ],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": shared.advertise_iss,
    });
    if shared.end_session {
        doc["end_session_endpoint"] = json!(format!("{base}{LOGOUT_PATH}"));
    }
    Json(doc).into_response()
}

/// `GET /oidc/.well-known/jwks`
pub(crate) async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    shared.stats.hit(Endpoint::Jwks);
    let faults = shared.faults();
    if let Some(delay) = faults.slow_jwks() {
        tokio::time::sleep(delay).await;
    }
    if faults.has(&Fault::JwksDown) {
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the JWKS is down (fault)",
        );
    }
    let document = lock(&shared.keys).jwks(shared.jwks_quirks);
    Json(document).into_response()
}
