//! Step four: the userinfo endpoint, as ID.me answers it (a JSON string holding a signed
//! JWT) or as other providers do (plain JSON). Its `sub` must be the ID token's.

use serde_json::{Map, Value};

use crate::engine::Inner;
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::validate::userinfo::{UserinfoBody, classify};

/// Fetches and verifies the user's claims with `access_token`. ID.me's access tokens are
/// single-use, so this is the one call made with it.
pub(crate) async fn fetch(
    inner: &Inner,
    endpoint: &str,
    access_token: &str,
    expected_sub: &str,
    allowed: &[jsonwebtoken::Algorithm],
) -> Result<Map<String, Value>, Error> {
    let provider = &inner.provider;
    let body = provider
        .get(endpoint, Endpoint::Userinfo, Some(access_token))
        .await?;
    let claims = match classify(&body)? {
        UserinfoBody::Json(claims) => claims,
        UserinfoBody::Jws(jwt) => provider.verify_jws(&jwt, None, allowed).await?.claims,
        UserinfoBody::Jwe(jwe) => {
            let jws = inner.config.decryption_keys.decrypt(&jwe)?;
            provider.verify_jws(&jws, None, allowed).await?.claims
        }
    };
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if sub == expected_sub => Ok(claims),
        Some(_) => Err(ProviderMisbehaved::SubMismatchInUserinfo.into()),
        None => Err(ProviderMisbehaved::MissingClaim("sub").into()),
    }
}
