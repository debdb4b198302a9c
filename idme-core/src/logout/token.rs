//! The back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6): the
//! form it is posted in, its signature and its claims. Ending the sessions it names is the
//! engine's.

use serde_json::Value;

use crate::config::IdmeConfig;
use crate::error::{Error, ProviderMisbehaved};
use crate::provider::Provider;
use crate::validate::signed::{self, Refused};

/// How old a back-channel logout token may be (seconds, beyond the clock skew).
pub(crate) const LOGOUT_TOKEN_MAX_AGE: u64 = 600;
/// The event a back-channel logout token must carry.
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A valid logout token: whom it names, and its `jti` and `iat` for the replay record.
#[derive(Debug)]
pub(crate) struct LogoutToken {
    pub(crate) sub: Option<String>,
    pub(crate) sid: Option<String>,
    pub(crate) jti: String,
    pub(crate) iat: u64,
}

/// Reads the posted form and checks its `logout_token` at `now` (Unix seconds).
pub(crate) async fn verify(
    config: &IdmeConfig,
    provider: &Provider,
    content_type: Option<&str>,
    body: &[u8],
    now: u64,
) -> Result<LogoutToken, Error> {
    let bad = |why| Error::from(ProviderMisbehaved::InvalidLogoutToken(why));
    if !content_type.is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    }) {
        return Err(bad("not a form"));
    }
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| bad("not a form"))?;
    let token = form
        .iter()
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| bad("logout_token missing"))?;
    // Anyone can post here. An encrypted logout token (Back-Channel Logout §2.4 allows
    // one; ID.me has no back-channel logout) would cost an RSA private-key operation
    // before any authentication: it is refused unread.
    if crate::jwe::is_jwe(token) {
        return Err(bad("encrypted logout tokens are not accepted"));
    }
    let verified = provider
        .verify_jws(
            token,
            crate::validate::accept::hmac_secret(config),
            &crate::validate::accept::allowed_algorithms(config),
            now,
        )
        .await?;
    let c = &verified.claims;
    let skew = config.clock_skew.as_secs();
    match signed::issuer_and_audience(c, provider.issuer(), &config.client_id) {
        Ok(()) => {}
        Err(Refused::Issuer) => return Err(ProviderMisbehaved::IssuerMismatch.into()),
        Err(Refused::Audience) => return Err(ProviderMisbehaved::AudienceMismatch.into()),
    }
    // Not openidconnect's ID-token verifier: a logout token has no `nonce`, may have no
    // `exp` or `sub`, and its `iat` bounds its age.
    let iat = c
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or(ProviderMisbehaved::MissingClaim("iat"))?;
    if iat > now + skew {
        return Err(ProviderMisbehaved::IssuedInFuture.into());
    }
    if iat + LOGOUT_TOKEN_MAX_AGE + skew < now {
        return Err(bad("issued too long ago"));
    }
    if let Some(exp) = c.get("exp").and_then(Value::as_u64)
        && exp + skew <= now
    {
        return Err(ProviderMisbehaved::Expired.into());
    }
    let has_event = c
        .get("events")
        .and_then(Value::as_object)
        .and_then(|e| e.get(BACKCHANNEL_EVENT))
        .is_some_and(Value::is_object);
    if !has_event {
        return Err(bad("no back-channel logout event"));
    }
    if c.contains_key("nonce") {
        return Err(bad("carries a nonce"));
    }
    let sub = c.get("sub").and_then(Value::as_str);
    let sid = c.get("sid").and_then(Value::as_str);
    if sub.is_none() && sid.is_none() {
        return Err(bad("neither sub nor sid"));
    }
    let jti = c
        .get("jti")
        .and_then(Value::as_str)
        .ok_or(ProviderMisbehaved::MissingClaim("jti"))?;
    Ok(LogoutToken {
        sub: sub.map(str::to_owned),
        sid: sid.map(str::to_owned),
        jti: jti.to_owned(),
        iat,
    })
}
