//! RP-initiated logout.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use super::Params;
use crate::pages;
use crate::state::{Endpoint, Shared};

/// `GET /oauth/logout?client_id=…&redirect_uri=…` (also `post_logout_redirect_uri`, and `state` is passed
/// back as OpenID Connect RP-Initiated Logout does).
///
/// Redirects when the target has the origin of a registered redirect URI (and `client_id`, when given, is the
/// client's); otherwise shows a "signed out" page.
pub(crate) async fn logout(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    shared.stats.hit(Endpoint::Logout);
    let params = Params::parse(query.as_deref().unwrap_or("").as_bytes());
    let target = params
        .get("post_logout_redirect_uri")
        .or_else(|| params.get("redirect_uri"));
    let client_ok = params
        .get("client_id")
        .is_none_or(|id| id == shared.client_id);
    let Some(target) = target.filter(|_| client_ok) else {
        return pages::logged_out();
    };
    let Some(target_origin) = tuple_origin(target) else {
        return pages::logged_out();
    };
    let allowed = shared
        .redirect_uris()
        .iter()
        .any(|uri| tuple_origin(uri).as_ref() == Some(&target_origin));
    if !allowed {
        return pages::logged_out();
    }
    let location = match params.get("state") {
        Some(state) => match Url::parse(target) {
            Ok(mut url) => {
                url.query_pairs_mut().append_pair("state", state);
                url.to_string()
            }
            Err(_) => target.to_owned(),
        },
        None => target.to_owned(),
    };
    match HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => pages::logged_out(),
    }
}

/// The ASCII serialisation of a URL's origin, `None` for opaque origins or unparsable URLs.
fn tuple_origin(uri: &str) -> Option<String> {
    let origin = Url::parse(uri).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}
