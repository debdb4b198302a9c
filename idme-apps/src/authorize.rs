//! `GET /auth/authorize`: a native or mobile app's sign-in (RFC 6749 §4.1 with PKCE,
//! RFC 8252), relayed through the person's web sign-in. No consent page: app clients are
//! registered by the operator (first-party).

use std::collections::HashMap;

use url::Url;

use super::codes::{self, hash, is_pkce_value};
use super::grant::{self, AuthCode, Person, SpentCode};
use super::oauth::param;
use super::pages;
use super::{
    Apps, can_come_back_to, origin, parse_scope, person, unmet_policy, verify_once, with_query,
};
use crate::server::Inner;
use idme_core::Reply;
use idme_core::RequestCookies;

/// The record id of an authorization code.
pub(crate) fn code_record_id(code: &str) -> String {
    format!("c.{}", hash(code))
}

/// `redirect_uri` with `pairs` added to its query.
fn redirect_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> Reply {
    // Checked against the client's rules already; never a panic all the same.
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return Reply::html(400, "Invalid redirect URI.".into());
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    Reply::redirect(String::from(url))
}

/// `GET /auth/authorize`.
pub(crate) async fn authorize(
    inner: &Inner,
    apps: &Apps,
    query: Option<&str>,
    cookies: &RequestCookies,
) -> Reply {
    let config = &inner.config;
    let notice = config.page_notice();
    let mut params: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if params.insert(k.into_owned(), v.into_owned()).is_some() {
            return pages::outcome(
                notice,
                400,
                "Sign-in refused",
                "The request repeats a parameter.",
            );
        }
    }
    // Until the client and its redirect URI are known good, nothing is redirected.
    let client = param(&params, "client_id").and_then(|id| super::clients::find(&apps.clients, id));
    let Some(client) = client else {
        tracing::warn!(target: "idme::apps", "authorize refused: unknown client");
        return pages::outcome(
            notice,
            400,
            "Sign-in refused",
            "This app is not registered with this site.",
        );
    };
    let redirect_uri = match param(&params, "redirect_uri") {
        Some(uri) if super::clients::redirect_allowed(client, uri) => uri,
        _ => {
            tracing::warn!(target: "idme::apps", client_id = %client.id, "authorize refused: redirect URI not allowed");
            return pages::outcome(
                notice,
                400,
                "Sign-in refused",
                "The app asked to return to an address it is not allowed to use.",
            );
        }
    };
    let state = param(&params, "state").unwrap_or_default();
    let iss = origin(config);
    let error = |code: &str| {
        let mut pairs = vec![("error", code)];
        if !state.is_empty() {
            pairs.push(("state", state));
        }
        pairs.push(("iss", &iss));
        redirect_to(redirect_uri, &pairs)
    };
    if param(&params, "response_type") != Some("code") {
        return error("unsupported_response_type");
    }
    let challenge = param(&params, "code_challenge").filter(|c| is_pkce_value(c));
    let (Some(challenge), Some("S256")) = (challenge, param(&params, "code_challenge_method"))
    else {
        return error("invalid_request");
    };
    let Ok(scope) = parse_scope(param(&params, "scope")) else {
        return error("invalid_scope");
    };
    let return_to = with_query(&config.paths.authorize, query);
    if !can_come_back_to(&return_to) {
        // Past the login's `return_to` limit the person would land on `/` after signing
        // in, and the app would wait for nothing.
        return error("invalid_request");
    }
    let (user, set_cookies) = match person(inner, cookies, &return_to).await {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    if let Some(policy) = unmet_policy(&user, &scope) {
        return match verify_once(inner, &policy, &config.paths.authorize, query) {
            Some(verify) => Reply::redirect(verify),
            // Back from ID.me still without it: the app hears so (RFC 6749 §4.1.2.1).
            None => {
                tracing::info!(target: "idme::apps", client_id = %client.id, policy = policy.handle(), "authorize: the person has not verified what the app asks for");
                error("access_denied")
            }
        }
        .with_cookies(set_cookies);
    }
    let now = config.clock.now();
    if let Err(wait) = apps.throttle.authorize(user.sub(), &client.id, now) {
        tracing::warn!(target: "idme::apps", sub = user.sub(), client_id = %client.id, wait, "too many authorization requests: refused for now");
        return error("temporarily_unavailable").with_cookies(set_cookies);
    }
    let code = codes::random(32);
    let expires_at = now + apps.clients.authorization_code_lifetime.as_secs();
    let person = Person::of(&user);
    let (sub, psid) = (person.sub.clone(), person.provider_sid.clone());
    let value = AuthCode {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        code_challenge: challenge.to_owned(),
        scope,
        person,
        expires_at,
    };
    let record = grant::seal(
        &config.cookie_keys,
        code_record_id(&code),
        &sub,
        psid,
        expires_at,
        &value,
    );
    if let Err(e) = apps.store.save(&record).await {
        tracing::error!(target: "idme::apps", error = %e, "app store unavailable");
        return error("temporarily_unavailable").with_cookies(set_cookies);
    }
    tracing::info!(target: "idme::apps", sub = %sub, client_id = %client.id, "authorization code issued");
    let mut pairs = vec![("code", code.as_str())];
    if !state.is_empty() {
        pairs.push(("state", state));
    }
    pairs.push(("iss", &iss));
    redirect_to(redirect_uri, &pairs).with_cookies(set_cookies)
}

/// `grant_type=authorization_code`: the code's person, if `code` is live, unused, and
/// was issued to `client_id` for `redirect_uri` with the challenge of `verifier`.
pub(crate) async fn redeem(
    inner: &Inner,
    apps: &Apps,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    now: u64,
) -> Result<AuthCode, super::oauth::OAuthError> {
    use super::oauth::OAuthError;
    let bad = || {
        OAuthError::grant("the code is invalid, used, expired, or was issued for another request")
    };
    let unavailable = |e: idme_core::session::store::StoreError| OAuthError::unavailable(&e);
    let id = code_record_id(code);
    let Some(record) = apps.store.load(&id).await.map_err(unavailable)? else {
        revoke_if_spent(inner, apps, &id)
            .await
            .map_err(unavailable)?;
        return Err(bad());
    };
    let found: AuthCode = grant::open(&inner.config.cookie_keys, &record).ok_or_else(bad)?;
    // Single-use whatever the outcome: a wrong verifier burns the code too.
    let taken = apps
        .take_once(&format!("{id}.taken"), found.expires_at, now)
        .await
        .map_err(unavailable)?;
    apps.store.delete(&id).await.map_err(unavailable)?;
    let matches = taken
        && found.expires_at > now
        && found.client_id == client_id
        && found.redirect_uri == redirect_uri
        && is_pkce_value(verifier)
        && codes::same(
            &idme_core::flow::pkce_challenge(verifier),
            &found.code_challenge,
        );
    if matches { Ok(found) } else { Err(bad()) }
}

/// How long after its own end a redeemed code is remembered (seconds).
const SPENT_KEPT: u64 = 600;

fn spent_record_id(code_id: &str) -> String {
    format!("{code_id}.spent")
}

/// Remembers that `code` started the grant `grant_id`, so that its second use revokes
/// the grant. A store failure is logged: the tokens stand, without that safeguard.
pub(crate) async fn remember_spent(
    inner: &Inner,
    apps: &Apps,
    code: &str,
    grant_id: &str,
    code_expires_at: u64,
    now: u64,
) {
    let until = code_expires_at.max(now) + SPENT_KEPT;
    let value = SpentCode {
        grant: grant_id.to_owned(),
    };
    let id = spent_record_id(&code_record_id(code));
    let record = grant::seal(&inner.config.cookie_keys, id, "", None, until, &value);
    if let Err(e) = apps.store.save(&record).await {
        tracing::warn!(target: "idme::apps", error = %e, "redeemed code not remembered: its reuse cannot revoke its grant");
    }
}

/// A code that comes back after it was redeemed: someone else holds it, so the grant it
/// started is revoked (RFC 6749 §4.1.2, RFC 9700 §4.5.3.1).
async fn revoke_if_spent(
    inner: &Inner,
    apps: &Apps,
    code_id: &str,
) -> Result<(), idme_core::session::store::StoreError> {
    let Some(record) = apps.store.load(&spent_record_id(code_id)).await? else {
        return Ok(());
    };
    let Some(spent) = grant::open::<SpentCode>(&inner.config.cookie_keys, &record) else {
        return Ok(());
    };
    super::tokens::revoke_family(apps, &spent.grant).await?;
    tracing::warn!(target: "idme::apps", "authorization code used twice: the grant it started is revoked");
    Ok(())
}
