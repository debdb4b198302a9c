//! The person's side of the device grant: `GET /auth/device` (type the code, then
//! confirm it) and `POST /auth/device` (allow or deny), behind the normal web sign-in,
//! with a CSRF token bound to the web session and the code.

use serde::{Deserialize, Serialize};

use super::codes::{self, hash, same};
use super::device::{pending, record_decision, user_code_record_id};
use super::grant::{Decision, Person};
use super::pages::{self, Confirm};
use super::params::Params;
use super::{Apps, origin, person, unmet_policy, verify_once, with_query};
use crate::server::Inner;
use idme_core::Reply;
use idme_core::RequestCookies;
use idme_core::session::store::StoreError;

/// The seal name of the confirmation form's CSRF token.
const CSRF_NAME: &str = "idme_device_csrf";
/// How long a confirmation form may be left open (seconds).
const CSRF_LIFETIME: u64 = 600;

/// The confirmation form's CSRF token: bound to the web session and the user code.
#[derive(Serialize, Deserialize)]
struct Csrf {
    sid: String,
    code: String,
    exp: u64,
}

fn unavailable_page(inner: &Inner<'_>, e: &StoreError) -> Reply {
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
    inner: &Inner<'_>,
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
    // A query that repeats a parameter shows the empty form, as one without a code.
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let Some(typed) = params.get("user_code") else {
        return pages::code_form(notice, 200, action, None, "").with_cookies(set_cookies);
    };
    let now = config.clock.now();
    let who = user.sub();
    // The guess is counted before the lookup, so that concurrent ones cannot all pass.
    if !apps.throttle.reserve_guess(who, now) {
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
    let found = found.and_then(|(code, p)| {
        let client = super::clients::find(&apps.clients, &p.request.client_id)?;
        Some((code, p, client))
    });
    let Some((code, pending, client)) = found else {
        return pages::code_form(
            notice,
            400,
            action,
            Some("That code is not valid or has expired"),
            &typed.chars().take(16).collect::<String>(),
        )
        .with_cookies(set_cookies);
    };
    apps.throttle.guess_found(who, now);
    let request = &pending.request;
    if let Some(policy) = unmet_policy(&user, &request.scope) {
        let reply = match verify_once(inner, &policy, action, query) {
            Some(verify) => Reply::redirect(verify),
            None => {
                // One click, one more round: back to this page, still marked as tried.
                let again = inner.host.verify_url_for(&policy, &return_to);
                pages::not_verified(notice, client.display_name_or_id(), &policy, &again)
            }
        };
        return reply.with_cookies(set_cookies);
    }
    let csrf = Csrf {
        sid: user.session_id().to_owned(),
        code: hash(&code),
        exp: now.saturating_add(CSRF_LIFETIME),
    };
    let csrf = config.cookie_keys.seal_compact(CSRF_NAME, &csrf);
    let shown = codes::display_user_code(&code);
    let asked_from = pending
        .asked_from
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    pages::confirm(
        notice,
        &Confirm {
            action,
            client,
            scope: &request.scope,
            shown_code: &shown,
            user_code: &code,
            csrf: &csrf,
            asked_at: &asked_at(pending.asked_at, now),
            asked_from: &asked_from,
        },
    )
    .with_cookies(set_cookies)
}

/// When a device asked, for people: `2024-05-01 14:03 UTC (2 minutes ago)`, or
/// `an unknown time`.
fn asked_at(at: Option<u64>, now: u64) -> String {
    let when = at
        .and_then(|t| i64::try_from(t).ok())
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0));
    let (Some(at), Some(when)) = (at, when) else {
        return "an unknown time".to_owned();
    };
    let ago = now.saturating_sub(at);
    let ago = match ago {
        0..60 => "just now".to_owned(),
        60..120 => "1 minute ago".to_owned(),
        120..3_600 => format!("{} minutes ago", ago / 60),
        3_600..7_200 => "1 hour ago".to_owned(),
        _ => format!("{} hours ago", ago / 3_600),
    };
    format!("{} ({ago})", when.format("%Y-%m-%d %H:%M UTC"))
}

/// `POST /auth/device`: the person allows or denies.
pub(crate) async fn decide(inner: &Inner<'_>, apps: &Apps, req: crate::Decide<'_>) -> Reply {
    let config = &inner.config;
    let notice = config.page_notice();
    // The same rule as the consent page's: a same-origin signal is required (browsers post
    // the page's own form with `Sec-Fetch-Site: same-origin`, and `Origin: null` under the
    // pages' `Referrer-Policy: no-referrer`); no signal at all is refused too.
    if !super::consent::same_origin(&origin(config), req.origin, req.sec_fetch_site) {
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
    let params = Params::parse(req.body).unwrap_or_default();
    let now = config.clock.now();
    let code = params.get("user_code").and_then(codes::normalise_user_code);
    let csrf = params
        .get("csrf")
        .and_then(|c| config.cookie_keys.open_compact::<Csrf>(CSRF_NAME, c));
    let (Some(code), Some(csrf)) = (code, csrf) else {
        return refused("no user code or CSRF token").with_cookies(set_cookies);
    };
    if csrf.exp <= now || csrf.sid != user.session_id() || !same(&csrf.code, &hash(&code)) {
        return refused("CSRF token of another session, code or time").with_cookies(set_cookies);
    }
    let allow = match params.get("decision") {
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
    let Some(super::device::Pending {
        device: device_id,
        request,
        ..
    }) = found
    else {
        return gone().with_cookies(set_cookies);
    };
    let name = super::clients::find(&apps.clients, &request.client_id)
        .map_or(request.client_id.as_str(), |c| c.display_name_or_id());
    if allow && let Some(policy) = unmet_policy(&user, &request.scope) {
        // A form from before the person's verification lapsed: the page says what is
        // missing (it offers to verify, once per click).
        let back = format!(
            "{}?user_code={}",
            config.paths.device,
            codes::display_user_code(&code)
        );
        let again = inner.host.verify_url_for(&policy, &back);
        return pages::not_verified(notice, name, &policy, &again).with_cookies(set_cookies);
    }
    let decision = if allow {
        Decision::Allowed(Box::new(Person::of(&user)))
    } else {
        Decision::Denied
    };
    match record_decision(inner, apps, &device_id, &request, &decision, now).await {
        Ok(true) => {}
        Ok(false) => return gone().with_cookies(set_cookies),
        Err(e) => return unavailable_page(inner, &e).with_cookies(set_cookies),
    }
    if let Err(e) = apps.store.delete(&user_code_record_id(&code)).await {
        tracing::warn!(target: "idme::apps", error = %e, "decided user code not deleted (it expires)");
    }
    let sub = user.sub();
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
