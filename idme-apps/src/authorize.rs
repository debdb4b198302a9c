//! `/auth/authorize`: a native or mobile app's sign-in (RFC 6749 §4.1 with PKCE,
//! RFC 8252), relayed through the person's web sign-in. `GET` checks the request and shows
//! the consent page (`consent`); the person's `POST` allows (the code goes back to the
//! app) or denies (`access_denied`). Only a client the operator marked, whose redirect
//! URIs are all `https`, skips the page.

use url::Url;

use super::codes::{self, hash, is_pkce_value};
use super::consent::{self, Consent};
use super::grant::{self, AuthCode, Person, SpentCode};
use super::pages;
use super::params::Params;
use super::{
    Apps, can_come_back_to, origin, parse_scope, person, unmet_policy, verify_once, with_query,
};
use crate::config::AppClient;
use crate::server::Inner;
use idme_core::{IdmeUser, Reply, RequestCookies, SetCookie};

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

/// A request whose client and redirect URI are known good.
struct Request<'a> {
    client: &'a AppClient,
    redirect_uri: String,
    state: String,
    iss: String,
}

impl Request<'_> {
    /// The app hears `pairs`, `state` and `iss` (RFC 9207) at its redirect URI.
    fn back(&self, pairs: &[(&str, &str)]) -> Reply {
        let mut all = pairs.to_vec();
        if !self.state.is_empty() {
            all.push(("state", &self.state));
        }
        all.push(("iss", &self.iss));
        redirect_to(&self.redirect_uri, &all)
    }

    /// The OAuth error `code`, at the app.
    fn error(&self, code: &str) -> Reply {
        self.back(&[("error", code)])
    }
}

/// A valid request: the client, the challenge, the policies, and the request as the
/// consent form carries it (its parameters, in a fixed order).
struct Valid<'a> {
    request: Request<'a>,
    challenge: String,
    scope: Vec<String>,
    form: String,
}

/// Checks the request `query`. Until the client and its redirect URI are known good,
/// nothing is redirected (a page); after that, errors go back to the app.
fn check<'a>(inner: &Inner<'_>, apps: &'a Apps, query: Option<&str>) -> Result<Valid<'a>, Reply> {
    let notice = inner.config.page_notice();
    let refused = |text: &str| pages::outcome(notice, 400, "Sign-in refused", text);
    let Some(params) = Params::parse(query.unwrap_or_default().as_bytes()) else {
        return Err(refused("The request repeats a parameter or has too many."));
    };
    let client = params
        .get("client_id")
        .and_then(|id| super::clients::find(&apps.clients, id));
    let Some(client) = client else {
        tracing::warn!(target: "idme::apps", "authorize refused: unknown client");
        return Err(refused("This app is not registered with this site."));
    };
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri) if super::clients::redirect_allowed(client, uri) => uri,
        _ => {
            tracing::warn!(target: "idme::apps", client_id = %client.id, "authorize refused: redirect URI not allowed");
            return Err(refused(
                "The app asked to return to an address it is not allowed to use.",
            ));
        }
    };
    let request = Request {
        client,
        redirect_uri: redirect_uri.to_owned(),
        state: params.get("state").unwrap_or_default().to_owned(),
        iss: origin(&inner.config),
    };
    if params.get("response_type") != Some("code") {
        return Err(request.error("unsupported_response_type"));
    }
    let challenge = params.get("code_challenge").filter(|c| is_pkce_value(c));
    let (Some(challenge), Some("S256")) = (challenge, params.get("code_challenge_method")) else {
        return Err(request.error("invalid_request"));
    };
    let Ok(scope) = parse_scope(params.get("scope")) else {
        return Err(request.error("invalid_scope"));
    };
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    if !request.state.is_empty() {
        form.append_pair("state", &request.state);
    }
    if let Some(scope) = params.get("scope") {
        form.append_pair("scope", scope);
    }
    Ok(Valid {
        challenge: challenge.to_owned(),
        scope,
        form: form.finish(),
        request,
    })
}

/// `GET /auth/authorize`: the consent page for a signed-in person (the sign-in first).
pub(crate) async fn authorize(
    inner: &Inner<'_>,
    apps: &Apps,
    query: Option<&str>,
    cookies: &RequestCookies,
) -> Reply {
    let config = &inner.config;
    let valid = match check(inner, apps, query) {
        Ok(valid) => valid,
        Err(reply) => return reply,
    };
    let return_to = with_query(&config.paths.authorize, query);
    if !can_come_back_to(&return_to) {
        // Past the login's `return_to` limit the person would land on `/` after signing
        // in, and the app would wait for nothing.
        return valid.request.error("invalid_request");
    }
    let (user, set_cookies) = match person(inner, cookies, &return_to).await {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let client = valid.request.client;
    if let Some(policy) = unmet_policy(&user, &valid.scope) {
        return match verify_once(inner, &policy, &config.paths.authorize, query) {
            Some(verify) => Reply::redirect(verify),
            // Back from ID.me still without it: the app hears so (RFC 6749 §4.1.2.1).
            None => {
                tracing::info!(target: "idme::apps", client_id = %client.id, policy = policy.handle(), "authorize: the person has not verified what the app asks for");
                valid.request.error("access_denied")
            }
        }
        .with_cookies(set_cookies);
    }
    if client.consent_skipped() {
        return issue(inner, apps, &valid, &user, set_cookies).await;
    }
    let now = config.clock.now();
    let csrf = consent::csrf(config, user.session_id(), &valid.form, now);
    let site = origin(config);
    let page = Consent {
        action: &config.paths.authorize,
        client,
        scope: &valid.scope,
        redirect_uri: &valid.request.redirect_uri,
        site: &site,
        lifetime: apps.clients.refresh_lifetime.as_secs(),
        request: &valid.form,
        csrf: &csrf,
    };
    tracing::info!(target: "idme::apps", client_id = %client.id, "authorize: consent asked");
    consent::page_reply(config.page_notice(), &page).with_cookies(set_cookies)
}

/// `POST /auth/authorize`: the person allows (the code goes back to the app) or denies
/// (`access_denied`), from this site, with this session's token for this request.
pub(crate) async fn decide(inner: &Inner<'_>, apps: &Apps, req: crate::Decide<'_>) -> Reply {
    let config = &inner.config;
    let notice = config.page_notice();
    let refused = |why: &str| {
        tracing::warn!(target: "idme::apps", "authorize decision refused: {why}");
        pages::outcome(
            notice,
            403,
            "Refused",
            "This form has expired or is not yours. Please start again from the app.",
        )
    };
    if !consent::same_origin(&origin(config), req.origin, req.sec_fetch_site) {
        return refused("not from this site");
    }
    let params = Params::parse(req.body).unwrap_or_default();
    let request = params.get("request").unwrap_or_default();
    let return_to = with_query(&config.paths.authorize, Some(request));
    let (user, set_cookies) = match person(inner, req.cookies, &return_to).await {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let now = config.clock.now();
    let token = params.get("csrf").unwrap_or_default();
    if !consent::csrf_ok(config, token, user.session_id(), request, now) {
        return refused("no CSRF token, or one of another session, request or time")
            .with_cookies(set_cookies);
    }
    let allow = match params.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => return refused("no decision").with_cookies(set_cookies),
    };
    let valid = match check(inner, apps, Some(request)) {
        Ok(valid) => valid,
        Err(reply) => return reply.with_cookies(set_cookies),
    };
    let client_id = &valid.request.client.id;
    if !allow {
        tracing::info!(target: "idme::apps", sub = user.sub(), client_id = %client_id, "authorize: the person denied");
        return valid
            .request
            .error("access_denied")
            .with_cookies(set_cookies);
    }
    if let Some(policy) = unmet_policy(&user, &valid.scope) {
        // A form from before the person's verification lapsed.
        tracing::info!(target: "idme::apps", client_id = %client_id, policy = policy.handle(), "authorize: the person has not verified what the app asks for");
        return valid
            .request
            .error("access_denied")
            .with_cookies(set_cookies);
    }
    issue(inner, apps, &valid, &user, set_cookies).await
}

/// The code for `valid`'s request, approved by `user`, at the app.
async fn issue(
    inner: &Inner<'_>,
    apps: &Apps,
    valid: &Valid<'_>,
    user: &IdmeUser,
    set_cookies: Vec<SetCookie>,
) -> Reply {
    let config = &inner.config;
    let request = &valid.request;
    let now = config.clock.now();
    if let Err(wait) = apps.throttle.authorize(user.sub(), &request.client.id, now) {
        tracing::warn!(target: "idme::apps", sub = user.sub(), client_id = %request.client.id, wait, "too many authorization requests: refused for now");
        return request
            .error("temporarily_unavailable")
            .with_cookies(set_cookies);
    }
    let code = codes::random(32);
    let lifetime = apps.clients.authorization_code_lifetime.as_secs();
    let expires_at = now.saturating_add(lifetime);
    let person = Person::of(user);
    let (sub, psid) = (person.sub.clone(), person.provider_sid.clone());
    let value = AuthCode {
        client_id: request.client.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: valid.challenge.clone(),
        scope: valid.scope.clone(),
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
        return request
            .error("temporarily_unavailable")
            .with_cookies(set_cookies);
    }
    tracing::info!(target: "idme::apps", sub = %sub, client_id = %request.client.id, "authorization code issued");
    request
        .back(&[("code", code.as_str())])
        .with_cookies(set_cookies)
}

/// `grant_type=authorization_code`: the code's person, if `code` is live, unused, and
/// was issued to `client_id` for `redirect_uri` with the challenge of `verifier`.
pub(crate) async fn redeem(
    inner: &Inner<'_>,
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
    inner: &Inner<'_>,
    apps: &Apps,
    code: &str,
    grant_id: &str,
    code_expires_at: u64,
    now: u64,
) {
    let until = code_expires_at.max(now).saturating_add(SPENT_KEPT);
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
    inner: &Inner<'_>,
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
