//! The device authorization grant (RFC 8628), the device's side: its request for codes
//! and its polls (answered through the token endpoint). The person's pages are in
//! `device_page`. A request (`d.…`) and the person's decision (`d.….decision`) are
//! separate records; polls write neither (their pacing is kept in memory: `polls`).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::codes::{self, hash, same};
use super::grant::{self, Decision, DeviceRequest, UserCode};
use super::oauth::{OAuthError, form, no_store};
use super::polls::Polled;
use super::throttle::DeviceRefusal;
use super::{Apps, origin, parse_scope, tokens};
use crate::server::Inner;
use idme_core::Reply;
use idme_core::session::store::StoreError;

/// How long after its end a device request still answers `expired_token` (seconds).
const EXPIRED_GRACE: u64 = 600;
/// The interval grows by this at each `slow_down` (RFC 8628 §3.5).
const SLOW_DOWN_STEP: u64 = 5;
/// Tries to find a user code no pending request uses.
const USER_CODE_TRIES: usize = 5;

fn device_record_id(device_code: &str) -> String {
    format!("d.{}", hash(device_code))
}

/// The record of the person's decision on the request `device_id`.
fn decision_record_id(device_id: &str) -> String {
    format!("{device_id}.decision")
}

pub(crate) fn user_code_record_id(user_code: &str) -> String {
    format!("u.{}", hash(user_code))
}

/// A user code's record: the pointer to its device request, with when and from where the
/// device asked, shown to the person (RFC 8628 §5.4). Older records have neither.
#[derive(Serialize, Deserialize)]
struct Pointer {
    #[serde(flatten)]
    to: UserCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<IpAddr>,
}

/// A device request waiting for the person.
pub(crate) struct Pending {
    /// The request's record id.
    pub(crate) device: String,
    pub(crate) request: DeviceRequest,
    /// Unix seconds when the device asked, if known.
    pub(crate) asked_at: Option<u64>,
    /// The address the device asked from, if known.
    pub(crate) asked_from: Option<IpAddr>,
}

/// `POST /auth/device/code` from `remote_addr` (the peer, when the adapter knows it).
pub(crate) async fn authorization(
    inner: &Inner<'_>,
    apps: &Apps,
    body: &[u8],
    remote_addr: Option<IpAddr>,
) -> Reply {
    match start(inner, apps, body, remote_addr).await {
        Ok(reply) => reply,
        Err(e) => e.reply(),
    }
}

async fn start(
    inner: &Inner<'_>,
    apps: &Apps,
    body: &[u8],
    remote_addr: Option<IpAddr>,
) -> Result<Reply, OAuthError> {
    let config = &inner.config;
    let params = form(body)?;
    super::oauth::public_client_only(&params, None)?;
    let client_id = params
        .get("client_id")
        .ok_or(OAuthError::request("client_id is missing"))?;
    let client = super::clients::find(&apps.clients, client_id)
        .ok_or(OAuthError::client("unknown client"))?;
    let scope = parse_scope(params.get("scope"))
        .map_err(|()| OAuthError::new(400, "invalid_scope", "unknown policy in scope"))?;
    let now = config.clock.now();
    // Per address, per client, then for the instance: a flood from one network is
    // held back without holding back every other device.
    match apps.throttle.device_code(&client.id, remote_addr, now) {
        Ok(()) => {}
        Err(DeviceRefusal::Party(wait)) => {
            tracing::warn!(target: "idme::apps", client_id, remote_addr = ?remote_addr, "too many device codes from this address or client: refused for now");
            return Err(OAuthError::too_many(wait));
        }
        Err(DeviceRefusal::Instance(wait)) => {
            tracing::warn!(target: "idme::apps", "too many device codes requested: refused for now");
            return Err(OAuthError {
                retry_after: Some(wait),
                ..OAuthError::new(
                    503,
                    "temporarily_unavailable",
                    "Too many devices are signing in right now; try again in a minute.",
                )
            });
        }
    }
    let keys = &config.cookie_keys;
    let lifetime = apps.clients.device_code_lifetime.as_secs();
    let expires_at = now.saturating_add(lifetime);
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
    };
    let record = grant::seal(
        keys,
        device_id.clone(),
        "",
        None,
        expires_at.saturating_add(EXPIRED_GRACE),
        &request,
    );
    apps.store.save(&record).await.map_err(unavailable)?;
    // Its polls here start from memory.
    apps.polls.keep(
        &device_id,
        Polled::of(request.clone(), record.expires_at),
        now,
    );
    let pointer = Pointer {
        to: UserCode { device: device_id },
        at: Some(now),
        from: remote_addr,
    };
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

/// The pending request of a (normal-form) user code.
pub(crate) async fn pending(
    inner: &Inner<'_>,
    apps: &Apps,
    user_code: &str,
    now: u64,
) -> Result<Option<Pending>, StoreError> {
    let keys = &inner.config.cookie_keys;
    let Some(pointer) = apps.store.load(&user_code_record_id(user_code)).await? else {
        return Ok(None);
    };
    let Some(Pointer { to, at, from }) = grant::open(keys, &pointer) else {
        return Ok(None);
    };
    let device = to.device;
    let Some(record) = apps.store.load(&device).await? else {
        return Ok(None);
    };
    let found = grant::open::<DeviceRequest>(keys, &record)
        .filter(|r| same(&r.user_code_hash, &hash(user_code)) && r.expires_at > now);
    let Some(request) = found else {
        return Ok(None);
    };
    if apps
        .store
        .load(&decision_record_id(&device))
        .await?
        .is_some()
    {
        return Ok(None);
    }
    Ok(Some(Pending {
        device,
        request,
        asked_at: at,
        asked_from: from,
    }))
}

/// Records the person's decision on the request `device_id`, once across instances;
/// `Ok(false)` when it was decided already.
pub(crate) async fn record_decision(
    inner: &Inner<'_>,
    apps: &Apps,
    device_id: &str,
    request: &DeviceRequest,
    decision: &Decision,
    now: u64,
) -> Result<bool, StoreError> {
    let id = decision_record_id(device_id);
    let until = request.expires_at.saturating_add(EXPIRED_GRACE);
    if !apps.take_once(&id, until, now).await? {
        return Ok(false);
    }
    let (sub, psid) = match decision {
        Decision::Allowed(person) => (person.sub.as_str(), person.provider_sid.clone()),
        _ => ("", None),
    };
    let record = grant::seal(&inner.config.cookie_keys, id, sub, psid, until, decision);
    apps.store.save(&record).await?;
    Ok(true)
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code`: a device's poll. The request
/// is opened once per instance and its pacing kept here ([`Polls`](crate::polls::Polls));
/// a pending poll reads only the decision from the store and writes nothing.
pub(crate) async fn poll(
    inner: &Inner<'_>,
    apps: &Apps,
    client_id: &str,
    device_code: &str,
    now: u64,
) -> Result<Reply, OAuthError> {
    let keys = &inner.config.cookie_keys;
    let unavailable = |e: StoreError| OAuthError::unavailable(&e);
    let unknown = || OAuthError::grant("the device code is invalid, used or another client's");
    let id = device_record_id(device_code);
    let request = match apps.polls.get(&id, now) {
        Some(request) => request,
        None => {
            let record = apps
                .store
                .load(&id)
                .await
                .map_err(unavailable)?
                .ok_or_else(unknown)?;
            let request: DeviceRequest = grant::open(keys, &record).ok_or_else(unknown)?;
            let polled = Polled::of(request, record.expires_at);
            apps.polls.keep(&id, polled.clone(), now);
            polled
        }
    };
    if *request.client_id != *client_id {
        return Err(unknown());
    }
    if now >= request.expires_at {
        return Err(OAuthError::new(
            400,
            "expired_token",
            "the device code has expired",
        ));
    }
    if apps.polls.polled(&id, now, SLOW_DOWN_STEP) {
        return Err(OAuthError::new(
            400,
            "slow_down",
            "polling too fast: wait the interval, now 5 seconds longer",
        ));
    }
    let decision_id = decision_record_id(&id);
    let decision = match apps.store.load(&decision_id).await.map_err(unavailable)? {
        Some(record) => grant::open(keys, &record).ok_or_else(unknown)?,
        None => Decision::Pending,
    };
    match decision {
        Decision::Pending => Err(OAuthError::new(
            400,
            "authorization_pending",
            "the person has not decided yet",
        )),
        Decision::Denied => Err(OAuthError::new(
            400,
            "access_denied",
            "the person denied the request",
        )),
        Decision::Allowed(person) => {
            // Exactly once: in this process, then across instances through the store.
            let until = request.expires_at.saturating_add(EXPIRED_GRACE);
            let marker = format!("{id}.taken");
            if !apps
                .take_once(&marker, until, now)
                .await
                .map_err(unavailable)?
            {
                return Err(unknown());
            }
            apps.polls.remove(&id);
            apps.store.delete(&id).await.map_err(unavailable)?;
            // The decision stays until it expires: the taken marker answers any later
            // poll of it, here or on another instance.
            let issued =
                tokens::issue(apps, keys, client_id, request.scope.to_vec(), *person, now).await?;
            Ok(issued.reply())
        }
    }
}
