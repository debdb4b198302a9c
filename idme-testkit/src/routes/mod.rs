//! The HTTP endpoints, at the same paths as ID.me's.

mod authorize;
mod discovery;
mod events;
mod http_faults;
mod logout;
mod native;
mod token;
mod userinfo;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::Shared;

/// Path of the discovery document.
pub(crate) const DISCOVERY_PATH: &str = "/oidc/.well-known/openid-configuration";
/// Path of the JWKS.
pub(crate) const JWKS_PATH: &str = "/oidc/.well-known/jwks";
/// Path of the authorization endpoint.
pub(crate) const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// Path the sign-in page posts the user's choice to.
pub(crate) const DECISION_PATH: &str = "/oauth/authorize/decision";
/// Path of the token endpoint.
pub(crate) const TOKEN_PATH: &str = "/oauth/token";
/// Path of the userinfo endpoint.
pub(crate) const USERINFO_PATH: &str = "/api/public/v3/userinfo";
/// Path of the verification status endpoint.
pub(crate) const ATTRIBUTES_PATH: &str = "/api/public/v3/attributes.json";
/// The authorization endpoint under a language prefix.
pub(crate) const LOCALISED_AUTHORIZE_PATH: &str = "/{locale}/oauth/authorize";
/// Path of the endpoint listing a client's enabled policies.
pub(crate) const POLICIES_PATH: &str = "/api/public/v3/policies";
/// Path of the logout endpoint.
pub(crate) const LOGOUT_PATH: &str = "/oauth/logout";

/// Path of the page that sends security events (offline development).
pub(crate) const EVENTS_PAGE_PATH: &str = "/testkit/events";

/// The emulator's router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(DISCOVERY_PATH, get(discovery::discovery))
        .route(JWKS_PATH, get(discovery::jwks))
        .route(AUTHORIZE_PATH, get(authorize::authorize))
        // ID.me localises its pages by path prefix: /es/oauth/authorize.
        .route(LOCALISED_AUTHORIZE_PATH, get(authorize::authorize))
        .route(DECISION_PATH, post(authorize::decision))
        .route(TOKEN_PATH, post(token::token))
        .route(USERINFO_PATH, get(userinfo::userinfo))
        .route(ATTRIBUTES_PATH, get(userinfo::attributes))
        .route(LOGOUT_PATH, get(logout::logout))
        .route(POLICIES_PATH, get(userinfo::policies))
        .route(crate::events::EVENTS_JWKS_PATH, get(events::jwks))
        .route(EVENTS_PAGE_PATH, get(events::show).post(events::send))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            http_faults::apply,
        ))
        .with_state(shared)
}

/// Form-urlencoded parameters (query string or body). Empty values count as absent (RFC 6749 §3.1) and
/// repeated names are remembered, since OAuth forbids them.
#[derive(Debug, Default)]
pub(crate) struct Params {
    values: HashMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    pub(crate) fn parse(input: &[u8]) -> Self {
        let mut params = Params::default();
        for (name, value) in url::form_urlencoded::parse(input) {
            if value.is_empty() {
                continue;
            }
            match params.values.entry(name.into_owned()) {
                Entry::Occupied(entry) => {
                    if !params.repeated.contains(entry.key()) {
                        params.repeated.push(entry.key().clone());
                    }
                }
                Entry::Vacant(entry) => {
                    entry.insert(value.into_owned());
                }
            }
        }
        params
    }

    /// The value of a parameter, `None` when absent or empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub(crate) fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|r| r == name)
    }

    /// The first repeated parameter name, if any.
    pub(crate) fn first_repeated(&self) -> Option<&str> {
        self.repeated.first().map(String::as_str)
    }
}
