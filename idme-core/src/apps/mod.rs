//! App clients: the application vouches for the person signed in with ID.me to its own
//! devices (RFC 8628 device grant) and native or mobile apps (authorization code with
//! PKCE, RFC 8252), with tokens it issues itself (opaque, rotating, revocable) that
//! `IdmeUser` accepts as `Authorization: Bearer` (RFC 6750).
//!
//! It sits on top of the sessions: the person's side is the normal web sign-in, and a
//! grant copies what the web session knows of the person (`sub`, claims, verification).
//! Everything lives in a [`SessionStore`] (the app store), sealed with the cookie keys.
//!
//! | module | what lives there |
//! |---|---|
//! | `clients` | registered clients and the redirect URI rules |
//! | `codes` | random codes, the user code's normal form, hashes |
//! | `grant` | what the store holds, sealed |
//! | `tokens` | issuing, rotation, reuse detection, revocation |
//! | `device` | the device's endpoints: codes and polls |
//! | `device_page` | the person's side: typing the code, allowing or denying |
//! | `authorize` | the code + PKCE relay's start and the person's decision |
//! | `consent` | the relay's consent page, its CSRF token and same-origin check |
//! | `token_endpoint` | `/auth/token` and `/auth/device/token` |
//! | `revoke` | RFC 7009 |
//! | `bearer` | a bearer request's user |
//! | `pages` | the person's HTML pages |
//! | `registry` | the engine's app-client state: clients, store, limits, rotation locks |
//! | `throttle` | user-code guessing limits, single-use guard |
//! | `oauth` | form parameters and OAuth JSON answers |

pub(crate) mod authorize;
pub(crate) mod bearer;
pub(crate) mod clients;
pub(crate) mod codes;
pub(crate) mod consent;
pub(crate) mod device;
pub(crate) mod device_page;
pub(crate) mod grant;
pub(crate) mod oauth;
pub(crate) mod pages;
pub(crate) mod registry;
pub(crate) mod revoke;
pub(crate) mod throttle;
pub(crate) mod token_endpoint;
pub(crate) mod tokens;

use crate::config::IdmeConfig;
use crate::verification::{Policy, Requirement};

pub(crate) use registry::Apps;

/// The policies a client asks for in `scope` (space-separated; `openid` ignored), as
/// ID.me handles; `Err` names the first unknown one.
pub(crate) fn parse_scope(scope: Option<&str>) -> Result<Vec<String>, ()> {
    let mut out: Vec<String> = Vec::new();
    for name in scope.unwrap_or_default().split_whitespace() {
        if name == "openid" {
            continue;
        }
        let policy = Policy::known(name).ok_or(())?;
        let handle = policy.handle().to_owned();
        if !out.contains(&handle) {
            out.push(handle);
        }
    }
    Ok(out)
}

/// The first of `scope`'s policies that `user` has not verified.
pub(crate) fn unmet_policy(user: &crate::IdmeUser, scope: &[String]) -> Option<Policy> {
    scope.iter().map(|h| Policy::parse(h)).find(|p| {
        let requirement = match p {
            Policy::Ial2 | Policy::Loa3 => Requirement::Ial2,
            other => match other.group() {
                Some(g) => Requirement::Group(g),
                None => return false,
            },
        };
        !user.meets(&requirement)
    })
}

/// The person signed in on the web (and the cookies authentication produced), or the
/// answer for a browser that is not: a `303` to sign in coming back to `return_to`, the
/// error page when the session store is down.
pub(crate) async fn person(
    inner: &crate::state::Inner,
    cookies: &crate::cookies::RequestCookies,
    return_to: &str,
) -> Result<(crate::IdmeUser, Vec<crate::cookies::SetCookie>), crate::reply::Reply> {
    let config = &inner.config;
    match crate::session::request::authenticate(inner, cookies, config.clock.now()).await {
        Ok(crate::session::Authenticated { user, set_cookies }) => Ok((user, set_cookies)),
        Err(crate::session::Denied { error, set_cookies }) => Err(crate::reply::unauthenticated(
            &error,
            Some("text/html"),
            return_to,
            &config.paths.login,
            || crate::pages::failure(config, &error, "no session"),
        )
        .with_cookies(set_cookies)),
    }
}

/// The query parameter marking a page the person came back to from ID.me's verification.
const VERIFICATION_TRIED: &str = "verification_tried";

/// Where a person who lacks `policy` goes from the page `path?query`: ID.me's verification
/// of it, coming back to that page marked as tried; `None` once they are back from it and
/// still lack it. ID.me can sign a person in without verifying them (they gave up, or
/// their verification is under review), and sending them round again would be a redirect
/// loop: the page says so instead.
pub(crate) fn verify_once(
    config: &IdmeConfig,
    policy: &Policy,
    path: &str,
    query: Option<&str>,
) -> Option<String> {
    let query = query.filter(|q| !q.is_empty());
    let tried = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, _)| k == VERIFICATION_TRIED);
    if tried {
        return None;
    }
    let back = match query {
        Some(q) => format!("{path}?{q}&{VERIFICATION_TRIED}=1"),
        None => format!("{path}?{VERIFICATION_TRIED}=1"),
    };
    Some(crate::flow::return_to::verify_url(config, policy, &back))
}

/// Whether the login can bring the person back to `path_and_query` (its `return_to`
/// limit), with room for the mark [`verify_once`] may add.
pub(crate) fn can_come_back_to(path_and_query: &str) -> bool {
    path_and_query.len() + VERIFICATION_TRIED.len() + 3 <= crate::flow::return_to::MAX_RETURN_TO
}

/// The application's origin (that of the redirect URI), e.g. `https://app.example`.
pub(crate) fn origin(config: &IdmeConfig) -> String {
    config.redirect_uri.origin().ascii_serialization()
}

/// `path`, with `?query` when there is one.
pub(crate) fn with_query(path: &str, query: Option<&str>) -> String {
    match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    }
}

/// Revokes the app grants (and pending codes) of a person who signed out: those of the
/// provider session `sid`, or, when it has none (or none is named), of `sub`.
pub(crate) async fn revoke_person(
    inner: &crate::state::Inner,
    sub: Option<&str>,
    sid: Option<&str>,
) -> Result<u64, crate::session::store::StoreError> {
    let Some(apps) = &inner.apps else {
        return Ok(0);
    };
    let by_sid = match sid {
        Some(sid) => apps.store.delete_by_provider_sid(sid).await?,
        None => 0,
    };
    let revoked = match (by_sid, sub) {
        (0, Some(sub)) => apps.store.delete_by_sub(sub).await?,
        (n, _) => n,
    };
    if revoked > 0 {
        tracing::info!(target: "idme::apps", revoked, "app grants revoked at sign-out");
    }
    Ok(revoked)
}
