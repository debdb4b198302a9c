//! The authorization endpoint, the sign-in page's decision, and delivery of authorization responses.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::form_urlencoded;

use super::Params;
use crate::faults::{Fault, Faults};
use crate::oauth::{ResponseMode, ResponseType, no_store};
use crate::pages;
use crate::persona::Persona;
use crate::state::{ACCESS_TTL_SECS, AuthRequest, CODE_TTL, CodeGrant, Endpoint, Shared};
use crate::tokens::{self, Channel, IdTokenInput};
use crate::util::is_pkce_string;

/// The issuer named by [`Fault::WrongIssParameter`].
const WRONG_ISS_PARAMETER: &str = "https://api.idmelabs.com/oidc";

/// Scopes the emulated client may ask for: `openid` and ID.me's common policy handles.
const ALLOWED_SCOPES: &[&str] = &[
    "openid",
    "military",
    "student",
    "teacher",
    "responder",
    "first_responder",
    "nurse",
    "government",
    "employee",
    "login",
    "mfa",
    "kba_replacement",
    "http://idmanagement.gov/ns/assurance/ial/2/aal/2",
    "http://idmanagement.gov/ns/assurance/loa/3",
    "offline_access",
];

/// The `prompt` values of OpenID Connect Core §3.1.2.1.
const PROMPTS: &[&str] = &["none", "login", "consent", "select_account"];

/// An error to send back on the redirect URI.
struct Refusal {
    error: &'static str,
    description: String,
}

fn refuse(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        error,
        description: description.into(),
    }
}

/// `GET /oauth/authorize`
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    shared.stats.hit(Endpoint::Authorize);
    let params = Params::parse(query.as_deref().unwrap_or("").as_bytes());

    // The client and its redirect URI are checked first: until both are known good, nothing may be sent to
    // the redirect URI (RFC 6749 §4.1.2.1).
    if params.is_repeated("client_id") || params.is_repeated("redirect_uri") {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id or redirect_uri is repeated",
        );
    }
    let Some(client_id) = params.get("client_id") else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id is missing",
        );
    };
    if client_id != shared.client_id {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "client_id is not registered",
        );
    }
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is missing",
        );
    };
    if !super::native::is_allowed_redirect(&shared, redirect_uri) {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            "redirect_uri does not exactly match a registered redirect URI",
        );
    }

    let faults = shared.faults();
    let state = params.get("state");
    let response_type = params.get("response_type").and_then(ResponseType::parse);
    let requested_mode = params.get("response_mode").and_then(ResponseMode::parse);
    // Errors travel the way the client asked when that way is valid, else the default for its response type.
    let error_mode = match (requested_mode, response_type) {
        (Some(mode), Some(rt)) if mode != ResponseMode::Query || !rt.has_front_channel_tokens() => {
            mode
        }
        (Some(mode), None) => mode,
        (_, Some(rt)) => rt.default_mode(),
        (None, None) => ResponseMode::Query,
    };

    match validate(&shared, &params) {
        Ok(request) => match shared.auto_user() {
            Some(persona) => respond(&shared, &faults, &request, persona).await,
            None => {
                let scope = request.scope.clone();
                let id = shared.store().add_pending(request);
                pages::sign_in(&id, &shared.client_id, &scope)
            }
        },
        Err(refusal) => {
            let params = vec![
                ("error".to_owned(), refusal.error.to_owned()),
                ("error_description".to_owned(), refusal.description),
            ];
            deliver(&shared, &faults, redirect_uri, error_mode, params, state)
        }
    }
}

/// Checks everything after the client and redirect URI.
fn validate(shared: &Shared, params: &Params) -> Result<AuthRequest, Refusal> {
    if let Some(name) = params.first_repeated() {
        return Err(refuse(
            "invalid_request",
            format!("parameter {name} is repeated"),
        ));
    }
    let redirect_uri = params.get("redirect_uri").unwrap_or_default().to_owned();
    let response_type = match params.get("response_type") {
        None => return Err(refuse("invalid_request", "response_type is missing")),
        Some(value) => ResponseType::parse(value).ok_or_else(|| {
            refuse(
                "unsupported_response_type",
                format!("response_type {value:?} is not supported"),
            )
        })?,
    };
    let response_mode = match params.get("response_mode") {
        None => response_type.default_mode(),
        Some(value) => match ResponseMode::parse(value) {
            None => {
                return Err(refuse(
                    "invalid_request",
                    format!("response_mode {value:?} is not supported"),
                ));
            }
            Some(ResponseMode::Query) if response_type.has_front_channel_tokens() => {
                return Err(refuse(
                    "invalid_request",
                    "response_mode query may not carry tokens: use fragment or form_post",
                ));
            }
            Some(mode) => mode,
        },
    };

    let Some(scope) = params.get("scope") else {
        return Err(refuse("invalid_request", "scope is missing"));
    };
    let mut scopes: Vec<&str> = Vec::new();
    for word in scope.split(' ').filter(|w| !w.is_empty()) {
        if !ALLOWED_SCOPES.contains(&word) {
            return Err(refuse(
                "invalid_scope",
                format!("scope {word:?} is not enabled for this client"),
            ));
        }
        if !scopes.contains(&word) {
            scopes.push(word);
        }
    }
    if scopes.is_empty() {
        return Err(refuse("invalid_request", "scope is missing"));
    }
    if response_type.id_token && !scopes.contains(&"openid") {
        return Err(refuse(
            "invalid_request",
            "response_type id_token requires the openid scope",
        ));
    }

    let nonce = params.get("nonce");
    if response_type.id_token && nonce.is_none() {
        return Err(refuse(
            "invalid_request",
            "nonce is required when response_type contains id_token",
        ));
    }

    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
        (Some(_), method) if method != Some("S256") => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        (Some(challenge), _) => {
            if challenge.len() != 43 || !is_pkce_string(challenge) {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge is not a base64url SHA-256 value",
                ));
            }
            Some(challenge.to_owned())
        }
    };
    if super::native::public_client_needs_pkce(shared, response_type.code, code_challenge.is_some())
    {
        return Err(refuse(
            "invalid_request",
            "a public client must use PKCE: code_challenge with code_challenge_method=S256 is required",
        ));
    }

    let prompt: Vec<&str> = params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect();
    if let Some(bad) = prompt.iter().find(|w| !PROMPTS.contains(w)) {
        return Err(refuse(
            "invalid_request",
            format!("prompt {bad:?} is not supported"),
        ));
    }
    if prompt.contains(&"none") && prompt.len() > 1 {
        return Err(refuse(
            "invalid_request",
            "prompt none cannot be combined with other values",
        ));
    }
    // OpenID Connect Core §11, enforced as strict providers do.
    if scopes.contains(&"offline_access") && !prompt.contains(&"consent") {
        return Err(refuse(
            "invalid_request",
            "offline_access requires prompt=consent",
        ));
    }
    if let Some(max_age) = params.get("max_age")
        && (max_age.is_empty() || !max_age.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(refuse(
            "invalid_request",
            "max_age must be a non-negative integer",
        ));
    }
    if shared.auto_user().is_none() && prompt.contains(&"none") {
        return Err(refuse(
            "login_required",
            "prompt=none, and the emulator has no signed-in user",
        ));
    }

    Ok(AuthRequest {
        redirect_uri,
        response_type,
        response_mode,
        scope: scopes.join(" "),
        state: params.get("state").map(str::to_owned),
        nonce: nonce.map(str::to_owned),
        code_challenge,
        acr: params
            .get("acr_values")
            .and_then(|a| a.split(' ').find(|w| !w.is_empty()))
            .map(str::to_owned),
    })
}

/// `POST /oauth/authorize/decision`: the sign-in page's answer (a persona, or cancel).
pub(crate) async fn decision(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let params = Params::parse(&body);
    let cancelled = params.get("cancel").is_some();
    let persona = params.get("persona").and_then(Persona::parse);
    if !cancelled && persona.is_none() {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "choose a persona or cancel",
        );
    }
    let request = params
        .get("request_id")
        .and_then(|id| shared.store().take_pending(id));
    let Some(request) = request else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "this sign-in request is unknown or has expired: start again from the application",
        );
    };
    let faults = shared.faults();
    match persona {
        Some(persona) if !cancelled => respond(&shared, &faults, &request, persona).await,
        _ => {
            let params = vec![
                ("error".to_owned(), "access_denied".to_owned()),
                (
                    "error_description".to_owned(),
                    "the user cancelled the sign-in".to_owned(),
                ),
            ];
            deliver(
                &shared,
                &faults,
                &request.redirect_uri,
                request.response_mode,
                params,
                request.state.as_deref(),
            )
        }
    }
}

/// Answers a validated authorization request as `persona` signing in now.
async fn respond(
    shared: &Shared,
    faults: &Faults,
    request: &AuthRequest,
    persona: Persona,
) -> Response {
    let auth_time = shared.clock.secs();
    crate::state::lock(&shared.events).last_persona = Some(persona);
    let rt = request.response_type;
    let (code, access_token) = {
        let mut store = shared.store();
        let code = rt.code.then(|| {
            store.issue_code(CodeGrant {
                client_id: shared.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                nonce: request.nonce.clone(),
                scope: request.scope.clone(),
                persona,
                code_challenge: request.code_challenge.clone(),
                auth_time,
                acr: request.acr.clone(),
                expires: shared.clock.instant() + CODE_TTL,
                used: false,
            })
        });
        let access_token = rt.token.then(|| store.issue_access(persona, None));
        (code, access_token)
    };

    let mut params: Vec<(String, String)> = Vec::new();
    if let Some(code) = &code {
        params.push(("code".into(), code.clone()));
    }
    if let Some(token) = &access_token {
        params.push(("access_token".into(), token.clone()));
        params.push(("token_type".into(), "bearer".into()));
        params.push(("expires_in".into(), ACCESS_TTL_SECS.to_string()));
        // RFC 6749 §4.2.2: the granted scope beside a front-channel access token.
        if faults.has(&Fault::NarrowScope) {
            params.push(("scope".into(), "openid".into()));
        } else if !faults.has(&Fault::OmitScope) {
            params.push(("scope".into(), request.scope.clone()));
        }
    }
    if rt.id_token {
        let input = IdTokenInput {
            persona,
            nonce: request.nonce.as_deref(),
            auth_time,
            acr: request.acr.as_deref(),
            code: code.as_deref(),
            access_token: access_token.as_deref(),
            channel: Channel::Front,
        };
        match tokens::id_token(shared, faults, input).await {
            Ok(id_token) => params.push(("id_token".into(), id_token)),
            Err(e) => {
                tracing::error!(error = %e, "idme-testkit could not sign an id_token");
                params = vec![
                    ("error".into(), "server_error".into()),
                    (
                        "error_description".into(),
                        "the emulator could not sign the id_token".into(),
                    ),
                ];
            }
        }
    }
    deliver(
        shared,
        faults,
        &request.redirect_uri,
        request.response_mode,
        params,
        request.state.as_deref(),
    )
}

/// Sends an authorization response (success or error) to the redirect URI in the given mode, adding `state`
/// and, per RFC 9207, `iss`.
fn deliver(
    shared: &Shared,
    faults: &Faults,
    redirect_uri: &str,
    mode: ResponseMode,
    mut params: Vec<(String, String)>,
    state: Option<&str>,
) -> Response {
    if let Some(state) = state {
        params.push(("state".into(), state.to_owned()));
    }
    if faults.has(&Fault::WrongIssParameter) {
        params.push(("iss".into(), WRONG_ISS_PARAMETER.to_owned()));
    } else if shared.advertise_iss && !faults.has(&Fault::OmitIssParameter) {
        params.push(("iss".into(), shared.issuer.clone()));
    }

    let encoded = || {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish()
    };
    let location = match mode {
        ResponseMode::FormPost => return pages::form_post(redirect_uri, &params),
        ResponseMode::Query => {
            let separator = if redirect_uri.contains('?') { '&' } else { '?' };
            format!("{redirect_uri}{separator}{}", encoded())
        }
        ResponseMode::Fragment => format!("{redirect_uri}#{}", encoded()),
    };
    match HeaderValue::from_str(&location) {
        Ok(value) => {
            let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response();
            no_store(&mut response);
            response
        }
        Err(_) => pages::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the registered redirect URI cannot be used in a Location header",
        ),
    }
}
