//! The device authorization grant (RFC 8628): the device's request for codes, and the
//! person's pages where they type the code and allow or deny it. The device's polls are
//! answered by the token endpoint ([`poll`]).

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::codes::{self, hash, same};
use super::grant::{self, Decision, DeviceRequest, Person, UserCode};
use super::oauth::{OAuthError, form, no_store, param};
use super::pages::{self, Confirm};
use super::{Apps, origin, parse_scope, person, tokens, unmet_policy, with_query};
use crate::cookies::RequestCookies;
use crate::reply::Reply;
use crate::session::store::StoreError;
use crate::state::Inner;

/// How long after its end a device request still answers `expired_token` (seconds).
const EXPIRED_GRACE: u64 = 600;
/// The seal name of the confirmation form's CSRF token.
const CSRF_NAME: &str = "idme_device_csrf";
/// How long a confirmation form may be left open (seconds).
const CSRF_LIFETIME: u64 = 600;
/// The interval grows by this at each `slow_down` (RFC 8628 §3.5).
const SLOW_DOWN_STEP: u64 = 5;
/// Tries to find a user code no pending request uses.
const USER_CODE_TRIES: usize = 5;

/// The confirmation form's CSRF token: bound to the web session and the user code.
#[derive(Serialize, Deserialize)]
struct Csrf {
    sid: String,
    code: String,
    exp: u64,
}

fn device_record_id(device_code: &str) -> String {
    format!("d.{}", hash(device_code))
}

fn user_code_record_id(user_code: &str) -> String {
    format!("u.{}", hash(user_code))
}

/// `POST /auth/device/code`.
pub(crate) async fn authorization(inner: &Inner, apps: &Apps, body: &[u8]) -> Reply {
    match start(inner, apps, body).await {
        Ok(reply) => reply,
        Err(e) => e.reply(),
    }
}

async fn start(inner: &Inner, apps: &Apps, body: &[u8]) -> Result<Reply, OAuthError> {
    let config = &inner.config;
    let params = form(body).ok_or(OAuthError::request("malformed or repeated parameters"))?;
    super::oauth::public_client_only(&params, None)?;
    let client_id =
        param(&params, "client_id").ok_or(OAuthError::request("client_id is missing"))?;
    let client = super::clients::find(&apps.clients, client_id)
        .ok_or(OAuthError::client("unknown client"))?;
    let scope = parse_scope(param(&params, "scope"))
        .map_err(|()| OAuthError::new(400, "invalid_scope", "unknown policy in scope"))?;
    let now = config.clock.now();
    let keys = &config.cookie_keys;
    let lifetime = apps.clients.device_code_lifetime.as_secs();
    let expires_at = now + lifetime;
    let unavailable = |e: StoreError| OAuthError::unavailable(&e);
    let mut user_code = codes::user_code();
    for _ in 1..USER_CODE_TRIES {
        match apps
            .store
            .load(&user_code_record_id(&user_code))
            .await
            .map_err(unavailable)?
        {
            Some(_) => user_code = codes::user_code(),
            None => break,
        }
    }
    let device_code = codes::random(32);
    let device_id = device_record_id(&device_code);
    let request = DeviceRequest {
        client_id: client.id.clone(),
        scope,
        user_code_hash: hash(&user_code),
        expires_at,
        interval: apps.clients.poll_interval.as_secs(),
        last_poll: None,
        decision: Decision::Pending,
    };
    let record = grant::seal(
        keys,
        device_id.clone(),
        "",
        None,
        expires_at + EXPIRED_GRACE,
        &request,
    );
    apps.store.save(&record).await.map_err(unavailable)?;
    let pointer = UserCode { device: device_id };
    let record = grant::seal(
        keys,
        user_code_record_id(&user_code),
        "",
        None,
        expires_at,
        &pointer,
    );
    apps.store.save(&record).await.map_err(unavailable)?;
    let shown = codes::display_user_code(&user_code);
    let uri = format!("{}{}", origin(config), config.paths.device);
    let complete = format!("{uri}?user_code={shown}");
    tracing::info!(target: "idme::apps", client_id, "device authorization started");
    Ok(no_store(Reply::json(
        200,
        &json!({
            "device_code": device_code,
            "user_code": shown,
            "verification_uri": uri,
            "verification_uri_complete": complete,
            "expires_in": lifetime,
            "interval": request.interval,
        }),
    )))
}

/// The pending request of a (normal-form) user code, with its record id.
async fn pending(
    inner: &Inner,
    apps: &Apps,
    user_code: &str,
    now: u64,
) -> Result<Option<(String, DeviceRequest)>, StoreError> {
    let keys = &inner.config.cookie_keys;
    let Some(pointer) = apps.store.load(&user_code_record_id(user_code)).await? else {
        return Ok(None);
    };
    let Some(UserCode { device }) = grant::open(keys, &pointer) else {
        return Ok(None);
    };
    let Some(record) = apps.store.load(&device).await? else {
        return Ok(None);
    };
    let found = grant::open::<DeviceRequest>(keys, &record).filter(|r| {
        same(&r.user_code_hash, &hash(user_code))
            && r.expires_at > now
            && matches!(r.decision, Decision::Pending)
    });
    Ok(found.map(|r| (device, r)))
}

fn unavailable_page(inner: &Inner, e: &StoreError) -> Reply {
    tracing::error!(target: "idme::apps", error = %e, "app store unavailable");
    pages::outcome(
        inner.config.page_notice(),
        503,
        "Temporarily unavailable",
        "This service is temporarily unavailable. Please try again in a moment.",
    )
}

/// `GET /auth/device[?user_code=…]`: the person's page.
pub(crate) async fn page(
    inner: &Inner,
    apps: &Apps,
    query: Option<&str>,
    cookies: &RequestCookies,
) -> Reply {
    let config = &inner.config;
    let notice = config.page_notice();
    let action = &config.paths.device;
    let return_to = with_query(action, query);
    let (user, set_cookies) = match person(inner, cookies, &return_to).await {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let Some(typed) = param(&params, "user_code") else {
        return pages::code_form(notice, 200, action, None, "").with_cookies(set_cookies);
    };
    let now = config.clock.now();
    let who = user.sub();
    if !apps.throttle.allows(who, now) {
        tracing::warn!(target: "idme::apps", sub = who, "too many wrong device codes");
        return pages::outcome(
            notice,
            429,
            "Too many attempts",
            "Too many wrong codes. Wait a few minutes and try again.",
        )
        .with_cookies(set_cookies);
    }
    let found = match codes::normalise_user_code(typed) {
        Some(code) => match pending(inner, apps, &code, now).await {
            Ok(found) => found.map(|f| (code, f)),
            Err(e) => return unavailable_page(inner, &e).with_cookies(set_cookies),
        },
        None => None,
    };
    let Some((code, (_, request))) = found else {
        apps.throttle.failed(who, now);
        return pages::code_form(
            notice,
            400,
            action,
            Some("That code is not valid or has expired"),
            &typed.chars().take(16).collect::<String>(),
        )
        .with_cookies(set_cookies);
    };
    if let Some(policy) = unmet_policy(&user, &request.scope) {
        let verify = crate::Idme::verify_url_for_config(config, &policy, &return_to);
        return Reply::redirect(verify).with_cookies(set_cookies);
    }
    let csrf = Csrf {
        sid: user.session_id().to_owned(),
        code: hash(&code),
        exp: now + CSRF_LIFETIME,
    };
    let csrf = config.cookie_keys.seal(CSRF_NAME, &csrf);
    let shown = codes::display_user_code(&code);
    pages::confirm(
        notice,
        &Confirm {
            action,
            client_id: &request.client_id,
            scope: &request.scope,
            shown_code: &shown,
            user_code: &code,
            csrf: &csrf,
        },
    )
    .with_cookies(set_cookies)
}

/// What a `POST /auth/device` carries besides its body.
pub(crate) struct Decide<'a> {
    pub(crate) body: &'a [u8],
    pub(crate) cookies: &'a RequestCookies,
    pub(crate) origin: Option<&'a str>,
    pub(crate) sec_fetch_site: Option<&'a str>,
}

/// `POST /auth/device`: the person allows or denies.
pub(crate) async fn decide(inner: &Inner, apps: &Apps, req: Decide<'_>) -> Reply {
    let config = &inner.config;
    let notice = config.page_notice();
    let site = req.sec_fetch_site.map(|s| s.trim().to_ascii_lowercase());
    // The engine's pages are served with `Referrer-Policy: no-referrer`, so browsers post
    // their own forms with `Origin: null`: no signal, `Sec-Fetch-Site` and the CSRF token decide.
    let sent_origin = req.origin.map(str::trim).filter(|o| *o != "null");
    let cross_site = matches!(site.as_deref(), Some("cross-site" | "same-site"))
        || sent_origin.is_some_and(|o| o != origin(config));
    if cross_site {
        tracing::warn!(target: "idme::apps", origin = req.origin, sec_fetch_site = req.sec_fetch_site, "device decision refused: cross-site");
        return pages::outcome(notice, 403, "Refused", "Cross-site request refused.");
    }
    let (user, set_cookies) = match person(inner, req.cookies, &config.paths.device).await {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let refused = |why: &str| {
        tracing::warn!(target: "idme::apps", sub = user.sub(), "device decision refused: {why}");
        pages::outcome(
            notice,
            403,
            "Refused",
            "This form has expired or is not yours. Please start again.",
        )
    };
    let params = form(req.body).unwrap_or_default();
    let now = config.clock.now();
    let code = param(&params, "user_code").and_then(codes::normalise_user_code);
    let csrf = param(&params, "csrf").and_then(|c| config.cookie_keys.open::<Csrf>(CSRF_NAME, c));
    let (Some(code), Some(csrf)) = (code, csrf) else {
        return refused("no user code or CSRF token").with_cookies(set_cookies);
    };
    if csrf.exp <= now || csrf.sid != user.session_id() || !same(&csrf.code, &hash(&code)) {
        return refused("CSRF token of another session, code or time").with_cookies(set_cookies);
    }
    let allow = match param(&params, "decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => return refused("no decision").with_cookies(set_cookies),
    };
    let found = match pending(inner, apps, &code, now).await {
        Ok(found) => found,
        Err(e) => return unavailable_page(inner, &e).with_cookies(set_cookies),
    };
    let gone = || {
        pages::code_form(
            notice,
            400,
            &config.paths.device,
            Some("That code is not valid or has expired"),
            "",
        )
    };
    let Some((device_id, mut request)) = found else {
        return gone().with_cookies(set_cookies);
    };
    if !apps
        .taken
        .take(&format!("decide.{device_id}"), request.expires_at, now)
    {
        return gone().with_cookies(set_cookies);
    }
    if allow && let Some(policy) = unmet_policy(&user, &request.scope) {
        let back = format!(
            "{}?user_code={}",
            config.paths.device,
            codes::display_user_code(&code)
        );
        let verify = crate::Idme::verify_url_for_config(config, &policy, &back);
        return Reply::redirect(verify).with_cookies(set_cookies);
    }
    let person = Person::of(&user);
    let (sub, psid) = (person.sub.clone(), person.provider_sid.clone());
    request.decision = if allow {
        Decision::Allowed(person)
    } else {
        Decision::Denied
    };
    let record = grant::seal(
        &config.cookie_keys,
        device_id,
        &sub,
        psid,
        request.expires_at + EXPIRED_GRACE,
        &request,
    );
    let stored = apps.store.update(&record).await;
    if let Err(e) = apps.store.delete(&user_code_record_id(&code)).await {
        tracing::warn!(target: "idme::apps", error = %e, "decided user code not deleted (it expires)");
    }
    match stored {
        Ok(true) => {}
        Ok(false) => return gone().with_cookies(set_cookies),
        Err(e) => return unavailable_page(inner, &e).with_cookies(set_cookies),
    }
    tracing::info!(target: "idme::apps", sub = %sub, client_id = %request.client_id, allow, "device request decided");
    let reply = if allow {
        pages::outcome(
            notice,
            200,
            "Device connected",
            "Device connected. You can return to your device.",
        )
    } else {
        pages::outcome(
            notice,
            200,
            "Request denied",
            "Request denied. Your device was not connected.",
        )
    };
    reply.with_cookies(set_cookies)
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code`: a device's poll.
pub(crate) async fn poll(
    inner: &Inner,
    apps: &Apps,
    client_id: &str,
    device_code: &str,
    now: u64,
) -> Result<Reply, OAuthError> {
    let keys = &inner.config.cookie_keys;
    let unavailable = |e: StoreError| OAuthError::unavailable(&e);
    let unknown = || OAuthError::grant("the device code is invalid, used or another client's");
    let id = device_record_id(device_code);
    let record = apps
        .store
        .load(&id)
        .await
        .map_err(unavailable)?
        .ok_or_else(unknown)?;
    let mut request: DeviceRequest = grant::open(keys, &record).ok_or_else(unknown)?;
    if request.client_id != client_id {
        return Err(unknown());
    }
    if now >= request.expires_at {
        return Err(OAuthError::new(
            400,
            "expired_token",
            "the device code has expired",
        ));
    }
    let too_soon = request
        .last_poll
        .is_some_and(|t| now < t + request.interval);
    if too_soon {
        request.interval += SLOW_DOWN_STEP;
    }
    request.last_poll = Some(now);
    let save = |request: &DeviceRequest| {
        grant::seal(
            keys,
            id.clone(),
            &record.sub,
            record.provider_sid.clone(),
            record.expires_at,
            request,
        )
    };
    if too_soon {
        apps.store
            .update(&save(&request))
            .await
            .map_err(unavailable)?;
        return Err(OAuthError::new(
            400,
            "slow_down",
            "polling too fast: wait the interval, now 5 seconds longer",
        ));
    }
    match request.decision {
        Decision::Pending => {
            if !apps
                .store
                .update(&save(&request))
                .await
                .map_err(unavailable)?
            {
                return Err(unknown());
            }
            Err(OAuthError::new(
                400,
                "authorization_pending",
                "the person has not decided yet",
            ))
        }
        Decision::Denied => Err(OAuthError::new(
            400,
            "access_denied",
            "the person denied the request",
        )),
        Decision::Allowed(person) => {
            // Exactly once: in this process, then across instances through the store.
            let until = request.expires_at + EXPIRED_GRACE;
            let ttl = Duration::from_secs(until.saturating_sub(now).max(1));
            if !apps.taken.take(&id, until, now)
                || !apps
                    .store
                    .try_lock(&format!("{id}.taken"), &codes::random(12), ttl)
                    .await
                    .map_err(unavailable)?
            {
                return Err(unknown());
            }
            apps.store.delete(&id).await.map_err(unavailable)?;
            let issued = tokens::issue(apps, keys, client_id, request.scope, person, now)
                .await
                .map_err(unavailable)?;
            Ok(issued.reply())
        }
    }
}
