//! Minting the JWTs the emulator hands out: id_tokens and userinfo responses, with faults applied.

use serde_json::{Map, Value, json};

use crate::faults::{Fault, Faults};
use crate::keys::{self, corrupt_signature};
use crate::persona::Persona;
use crate::state::{ACCESS_TTL_SECS, ID_TOKEN_TTL_SECS, Shared};
use crate::util::{half_hash, random_hex};

/// The issuer named by [`Fault::WrongIssuer`]: ID.me's sandbox, a realistic "wrong environment" mistake.
const WRONG_ISSUER: &str = "https://api.idmelabs.com/oidc";
/// The audience named by [`Fault::WrongAudience`].
const WRONG_AUDIENCE: &str = "testkit-some-other-client";
/// The `acr` named by [`Fault::WrongAcr`]: the lowest assurance.
const WRONG_ACR: &str = "http://idmanagement.gov/ns/assurance/loa/1";
/// The subject named by [`Fault::TokenSubMismatch`] and [`Fault::UserinfoWrongSub`]; no persona has it.
pub(crate) const OTHER_SUB: &str = "deadbeefdeadbeefdeadbeefdeadbeef";

/// Where an id_token is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// In the authorization response.
    Front,
    /// In the token endpoint's response.
    TokenEndpoint,
}

/// What goes into one id_token.
#[derive(Debug)]
pub(crate) struct IdTokenInput<'a> {
    pub(crate) persona: Persona,
    pub(crate) nonce: Option<&'a str>,
    pub(crate) auth_time: i64,
    /// The `acr` achieved (the first of the `acr_values` asked for).
    pub(crate) acr: Option<&'a str>,
    /// The code returned alongside (front channel): yields `c_hash`.
    pub(crate) code: Option<&'a str>,
    /// The access token returned alongside: yields `at_hash`.
    pub(crate) access_token: Option<&'a str>,
    pub(crate) channel: Channel,
}

/// Mints an id_token, misbehaving as the faults say.
pub(crate) async fn id_token(
    shared: &Shared,
    faults: &Faults,
    input: IdTokenInput<'_>,
) -> Result<String, String> {
    let now = shared.clock.secs();
    let iat = if faults.has(&Fault::Expired) {
        now - 3600
    } else if faults.has(&Fault::IatInFuture) {
        now + 600
    } else {
        now
    };
    let exp = if faults.has(&Fault::Expired) {
        now - 600
    } else {
        iat + ID_TOKEN_TTL_SECS
    };
    let sub = if faults.has(&Fault::TokenSubMismatch) && input.channel == Channel::TokenEndpoint {
        OTHER_SUB
    } else {
        input.persona.sub()
    };

    let mut claims = Map::new();
    let iss = if faults.has(&Fault::WrongIssuer) {
        WRONG_ISSUER
    } else {
        shared.issuer.as_str()
    };
    claims.insert("iss".into(), json!(iss));
    let aud = if faults.has(&Fault::WrongAudience) {
        WRONG_AUDIENCE
    } else {
        shared.client_id.as_str()
    };
    claims.insert("aud".into(), json!(aud));
    claims.insert("sub".into(), json!(sub));
    claims.insert("exp".into(), json!(exp));
    claims.insert("iat".into(), json!(iat));
    if faults.has(&Fault::StaleAuthTime) {
        claims.insert("auth_time".into(), json!(now - 86_400));
    } else if !faults.has(&Fault::OmitAuthTime) {
        claims.insert("auth_time".into(), json!(input.auth_time));
    }
    if faults.has(&Fault::WrongAcr) {
        claims.insert("acr".into(), json!(WRONG_ACR));
    } else if let Some(acr) = input.acr {
        claims.insert("acr".into(), json!(acr));
    }
    claims.insert("sid".into(), json!(shared.provider_sid(sub)));
    if let Some(nonce) = input.nonce {
        if faults.has(&Fault::WrongNonce) {
            claims.insert("nonce".into(), json!(format!("wrong-{}", random_hex(8))));
        } else if !faults.has(&Fault::OmitNonce) {
            claims.insert("nonce".into(), json!(nonce));
        }
    }
    if let Some(code) = input.code {
        if faults.has(&Fault::WrongCHash) {
            claims.insert("c_hash".into(), json!(half_hash(&format!("{code}-not"))));
        } else if !faults.has(&Fault::OmitCHash) {
            claims.insert("c_hash".into(), json!(half_hash(code)));
        }
    }
    if let Some(token) = input.access_token {
        if faults.has(&Fault::WrongAtHash) {
            claims.insert("at_hash".into(), json!(half_hash(&format!("{token}-not"))));
        } else if !faults.has(&Fault::OmitAtHash) {
            claims.insert("at_hash".into(), json!(half_hash(token)));
        }
    }
    let claims = Value::Object(claims);

    if faults.has(&Fault::AlgNone) {
        return keys::unsigned(&claims).map_err(|e| e.to_string());
    }
    let key = if faults.has(&Fault::UnknownKid) {
        keys::off_thread(keys::unpublished_key)
            .await
            .map_err(|e| e.to_string())?
    } else {
        shared.signing_key()
    };
    let jwt = keys::sign(&claims, &key, !faults.has(&Fault::NoKid)).map_err(|e| e.to_string())?;
    let jwt = if faults.has(&Fault::BadSignature) {
        corrupt_signature(&jwt)
    } else {
        jwt
    };
    shared.maybe_encrypt(jwt, faults)
}

/// ID.me's userinfo claims for a persona as a JSON object (iss, aud, iat, exp and ID.me's own claim names).
pub(crate) fn userinfo_claims(shared: &Shared, faults: &Faults, persona: Persona) -> Value {
    let now = shared.clock.secs();
    let sub = if faults.has(&Fault::UserinfoWrongSub) {
        OTHER_SUB
    } else {
        persona.sub()
    };
    let mut claims = Map::new();
    if !faults.has(&Fault::UserinfoOmitIssAud) {
        let iss = if faults.has(&Fault::UserinfoWrongIssuer) {
            WRONG_ISSUER
        } else {
            shared.issuer.as_str()
        };
        let aud = if faults.has(&Fault::UserinfoWrongAudience) {
            WRONG_AUDIENCE
        } else {
            shared.client_id.as_str()
        };
        claims.insert("iss".into(), json!(iss));
        claims.insert("aud".into(), json!(aud));
    }
    claims.insert("iat".into(), json!(now));
    claims.insert(
        "exp".into(),
        json!(now + i64::try_from(ACCESS_TTL_SECS).unwrap_or(300)),
    );
    claims.extend(persona.userinfo_claims(sub));
    Value::Object(claims)
}

/// The userinfo claims as an RS256 compact JWS, as ID.me sends them.
pub(crate) fn userinfo_jwt(
    shared: &Shared,
    faults: &Faults,
    claims: &Value,
) -> Result<String, String> {
    let jwt = keys::sign(claims, &shared.signing_key(), true).map_err(|e| e.to_string())?;
    let jwt = if faults.has(&Fault::BadSignature) {
        corrupt_signature(&jwt)
    } else {
        jwt
    };
    shared.maybe_encrypt(jwt, faults)
}
