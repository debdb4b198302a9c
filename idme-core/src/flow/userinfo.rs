//! Step four: the userinfo endpoint, as ID.me answers it (a JSON string holding a signed
//! JWT) or as other providers do (plain JSON). Its `sub` must be the ID token's; a signed
//! one must name the issuer and this client; with a decryption key configured it must be
//! encrypted.

use serde_json::{Map, Value};

use crate::engine::Inner;
use crate::error::{Endpoint, Error, ProviderMisbehaved};
use crate::validate::jws::Alg;
use crate::validate::signed::{self, Refused};
use crate::validate::userinfo::{UserinfoBody, classify};

/// Fetches and verifies the user's claims with `access_token`. ID.me's access tokens are
/// single-use, so this is the one call made with it.
pub(crate) async fn fetch(
    inner: &Inner,
    endpoint: &str,
    access_token: &str,
    expected_sub: &str,
    allowed: &[Alg],
) -> Result<Map<String, Value>, Error> {
    let body = inner
        .provider
        .get(endpoint, Endpoint::Userinfo, Some(access_token))
        .await?;
    let keys = &inner.config.decryption_keys;
    let claims = match classify(&body)? {
        // With a decryption key configured, userinfo must come encrypted.
        UserinfoBody::Json(_) | UserinfoBody::Jws(_) if !keys.is_empty() => {
            return Err(ProviderMisbehaved::NotEncrypted("userinfo").into());
        }
        UserinfoBody::Json(claims) => claims,
        UserinfoBody::Jws(jwt) => signed_claims(inner, &jwt, allowed).await?,
        UserinfoBody::Jwe(jwe) => signed_claims(inner, &keys.decrypt(&jwe)?, allowed).await?,
    };
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if sub == expected_sub => Ok(claims),
        Some(_) => Err(ProviderMisbehaved::SubMismatchInUserinfo.into()),
        None => Err(ProviderMisbehaved::MissingClaim("sub").into()),
    }
}

/// The claims of a signed userinfo response: signature, then `iss` equal to the issuer
/// and `aud` naming this client (OIDC Core §5.3.2).
async fn signed_claims(
    inner: &Inner,
    jwt: &str,
    allowed: &[Alg],
) -> Result<Map<String, Value>, Error> {
    let provider = &inner.provider;
    let claims = provider.verify_jws(jwt, None, allowed).await?.claims;
    match signed::issuer_and_audience(&claims, provider.issuer(), &inner.config.client_id) {
        Ok(()) => Ok(claims),
        Err(Refused::Issuer) => Err(ProviderMisbehaved::UserinfoIssuerMismatch.into()),
        Err(Refused::Audience) => Err(ProviderMisbehaved::UserinfoAudienceMismatch.into()),
    }
}
