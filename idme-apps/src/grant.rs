//! What the app store holds, each value sealed with the cookie keys and bound to its
//! record id: a grant family (`g.<id>`: the person, the current token hashes, the
//! rotated-away refresh hashes), a device request (`d.<sha256(device_code)>`), the
//! pointer of a user code to it (`u.<sha256(user code)>`), an authorization code
//! (`c.<sha256(code)>`) and, once redeemed, the grant it started (`c.<sha256(code)>.spent`). The store sees only ids, the `sub`, the provider session id and
//! expiries. A person's grants of a client are indexed apart (`grant_index`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use idme_core::CookieKeys;
use idme_core::session::store::Record;
use idme_core::verification::Verification;
use idme_core::verification::{Group, Policy};
use idme_core::{IdmeUser, UserParts};

/// How many rotated-away refresh token hashes a family remembers for reuse detection.
pub(crate) const ROTATED_KEPT: usize = 32;

/// The person a grant vouches for: what [`IdmeUser`] shows, as it was at approval.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Person {
    pub(crate) sub: String,
    pub(crate) claims: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) verification: Option<Verification>,
    /// The provider session of the web session that approved (back-channel logout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) provider_sid: Option<String>,
    /// The web session that approved (its grants end when it logs out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) web_session: Option<String>,
    /// When the person signed in for the web session that approved (Unix seconds): what
    /// `Fresh<N>` checks a bearer request by. Absent in grants made before it was kept:
    /// the `auth_time` among the claims counts, else the grant's creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auth_time: Option<u64>,
    /// The assurance (`acr`) of that sign-in, when the provider named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) acr: Option<String>,
}

impl Person {
    /// The signed-in user of a web session.
    pub(crate) fn of(user: &IdmeUser) -> Self {
        Self {
            sub: user.sub().to_owned(),
            claims: user.claims().clone(),
            verification: user.verification().cloned(),
            provider_sid: user.provider_session_id().map(str::to_owned),
            web_session: Some(user.session_id().to_owned()),
            auth_time: Some(user.auth_time()),
            acr: user.acr().map(str::to_owned),
        }
    }

    /// The user a bearer request is: the person's `sub` and identity claims, and of what
    /// ID.me verified only the policies of `scope` (what the person granted); no ID.me
    /// token; `id` as its session id, ending at `expires_at`.
    pub(crate) fn user(
        &self,
        id: &str,
        created_at: u64,
        expires_at: u64,
        scope: &[String],
    ) -> IdmeUser {
        let granted: Vec<Policy> = scope.iter().map(|h| Policy::parse(h)).collect();
        let ial2 = granted
            .iter()
            .any(|p| matches!(p, Policy::Ial2 | Policy::Loa3));
        let mut claims = self.claims.clone();
        if !ial2 {
            // The assurance level is a verification of its own, shown only when granted.
            for name in ASSURANCE_CLAIMS {
                claims.remove(*name);
            }
        }
        let verification = self.verification.as_ref().map(|v| Verification {
            groups: v
                .groups
                .iter()
                .filter(|g| {
                    granted
                        .iter()
                        .any(|p| p.group().is_some() && p.group() == Group::parse(&g.group))
                })
                .cloned()
                .collect(),
            attributes: v.attributes.clone(),
        });
        IdmeUser::from_parts(UserParts {
            sub: self.sub.clone(),
            claims,
            verification,
            session_id: id.to_owned(),
            created_at,
            expires_at,
            provider_sid: self.provider_sid.clone(),
            auth_time: self.auth_time,
            // An assurance claim, shown only with IAL2 granted (as the claims are).
            acr: self.acr.clone().filter(|_| ial2),
        })
    }
}

/// Claims that state an assurance level (ID.me's and OIDC's): a bearer user shows them only
/// when its grant includes IAL2.
const ASSURANCE_CLAIMS: &[&str] = &["credential_ial", "level_of_assurance", "acr"];

/// One grant: every token issued from one approval, rotated together, revoked together.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Family {
    pub(crate) client_id: String,
    /// The policies granted.
    pub(crate) scope: Vec<String>,
    pub(crate) person: Person,
    /// SHA-256 (hex) of the current access token.
    pub(crate) access_hash: String,
    /// Unix seconds.
    pub(crate) access_expires_at: u64,
    /// SHA-256 (hex) of the current refresh token.
    pub(crate) refresh_hash: String,
    /// Hashes of refresh tokens rotated away, newest last (at most [`ROTATED_KEPT`]).
    pub(crate) rotated: Vec<String>,
    /// How many times the family rotated.
    pub(crate) generation: u64,
    /// Unix seconds: first tokens.
    pub(crate) created_at: u64,
    /// Unix seconds: the family's absolute end.
    pub(crate) expires_at: u64,
    /// Unix seconds of the last rotation (0: none yet).
    #[serde(default)]
    pub(crate) rotated_at: u64,
    /// The key the current tokens were derived with from the refresh token they replaced
    /// (random at each rotation; empty before the first), so that a retry with that token
    /// within the reuse interval gets the same tokens back without the store holding them.
    #[serde(default)]
    pub(crate) rotation_key: String,
}

/// A device's pending request.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct DeviceRequest {
    pub(crate) client_id: String,
    pub(crate) scope: Vec<String>,
    /// SHA-256 (hex) of the normal-form user code.
    pub(crate) user_code_hash: String,
    /// Unix seconds: the codes' end.
    pub(crate) expires_at: u64,
    /// Seconds the device must wait between polls, as first given (each instance then
    /// paces the polls it sees in memory: `polls`).
    pub(crate) interval: u64,
    /// Unix seconds of the last poll: `None` since polls are paced in memory (read from
    /// records written before).
    pub(crate) last_poll: Option<u64>,
}

/// What the person decided on a device request (its own record beside the request).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) enum Decision {
    Pending,
    /// Boxed: a person is much larger than the other variants.
    Allowed(Box<Person>),
    Denied,
}

/// A user code's pointer to its device request.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct UserCode {
    /// The device request's record id.
    pub(crate) device: String,
}

/// A redeemed authorization code: the grant its tokens started, revoked if the code
/// comes back (RFC 6749 §4.1.2).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SpentCode {
    pub(crate) grant: String,
}

/// An authorization code of the code + PKCE relay.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AuthCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) scope: Vec<String>,
    pub(crate) person: Person,
    pub(crate) expires_at: u64,
}

/// A store record holding `value` sealed under its id. A record of nobody yet (`sub`
/// empty: a device request before the person decides) is indexed under its own id, so a
/// store's per-user index never gathers every pending request under one empty name.
pub(crate) fn seal<T: Serialize>(
    keys: &CookieKeys,
    id: String,
    sub: &str,
    provider_sid: Option<String>,
    expires_at: u64,
    value: &T,
) -> Record {
    let data = keys.seal_compact(&id, value);
    let sub = if sub.is_empty() {
        id.clone()
    } else {
        sub.to_owned()
    };
    Record::new(id, sub, provider_sid, expires_at, data)
}

/// The value sealed in `record`, if it opens under the record's id.
pub(crate) fn open<T: serde::de::DeserializeOwned>(
    keys: &CookieKeys,
    record: &Record,
) -> Option<T> {
    keys.open_compact(&record.id, &record.data)
}
