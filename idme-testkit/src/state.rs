//! What the emulator remembers: settings, keys, pending sign-ins, codes, tokens and hit counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::faults::{Fault, Faults};
use crate::keys::{KeyRing, SigningKey};
use crate::oauth::{ResponseMode, ResponseType};
use crate::persona::Persona;
use crate::util::random_token;

/// Lifetime of a pending (not yet answered) sign-in.
pub(crate) const PENDING_TTL: Duration = Duration::from_secs(600);
/// Lifetime of an authorization code.
pub(crate) const CODE_TTL: Duration = Duration::from_secs(60);
/// How long a used or expired code is remembered, so that its replay is recognised and punished.
const CODE_MEMORY: Duration = Duration::from_secs(600);
/// Lifetime of an access token (`expires_in`).
pub(crate) const ACCESS_TTL_SECS: u64 = 300;
/// Lifetime of a refresh token (`refresh_expires_in`).
pub(crate) const REFRESH_TTL_SECS: u64 = 604_800;
/// Lifetime of an id_token (`exp - iat`), about what ID.me issues.
pub(crate) const ID_TOKEN_TTL_SECS: i64 = 5 * 3600;

/// Hit counters of every endpoint since the emulator started, from
/// [`Emulator::stats`](crate::Emulator::stats): for tests that count the relying party's
/// calls (a cached JWKS, a userinfo read once per access token).
///
/// ```no_run
/// # async fn demo(idme: idme_testkit::Emulator) {
/// let before = idme.stats();
/// // ... sign in twice ...
/// let after = idme.stats();
/// assert_eq!(after.jwks, before.jwks, "the JWKS is cached");
/// assert_eq!(after.token - before.token, 2);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Discovery document requests.
    pub discovery: u64,
    /// JWKS requests.
    pub jwks: u64,
    /// Authorization requests (`GET /oauth/authorize`; the sign-in page's answer is not counted).
    pub authorize: u64,
    /// Token endpoint requests.
    pub token: u64,
    /// Userinfo requests.
    pub userinfo: u64,
    /// `attributes.json` requests.
    pub attributes: u64,
    /// Logout requests.
    pub logout: u64,
}

/// Which endpoint a hit is counted for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Endpoint {
    Discovery,
    Jwks,
    Authorize,
    Token,
    Userinfo,
    Attributes,
    Logout,
}

#[derive(Debug, Default)]
pub(crate) struct Counters([AtomicU64; 7]);

impl Counters {
    pub(crate) fn hit(&self, endpoint: Endpoint) {
        self.0[endpoint as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let get = |e: Endpoint| self.0[e as usize].load(Ordering::Relaxed);
        Stats {
            discovery: get(Endpoint::Discovery),
            jwks: get(Endpoint::Jwks),
            authorize: get(Endpoint::Authorize),
            token: get(Endpoint::Token),
            userinfo: get(Endpoint::Userinfo),
            attributes: get(Endpoint::Attributes),
            logout: get(Endpoint::Logout),
        }
    }
}

/// The settings that can change while the emulator runs.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) auto_user: Option<Persona>,
    pub(crate) faults: Faults,
    pub(crate) rp_key: Option<crate::encryption::RpEncryptionKey>,
}

/// A validated authorization request waiting for the user's decision (or answered at once).
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    pub(crate) redirect_uri: String,
    pub(crate) response_type: ResponseType,
    pub(crate) response_mode: ResponseMode,
    pub(crate) scope: String,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    /// The `acr` the sign-in achieves: the first of the `acr_values` asked for.
    pub(crate) acr: Option<String>,
}

#[derive(Debug)]
struct Pending {
    request: AuthRequest,
    expires: Instant,
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) nonce: Option<String>,
    pub(crate) scope: String,
    pub(crate) persona: Persona,
    pub(crate) code_challenge: Option<String>,
    pub(crate) auth_time: i64,
    pub(crate) acr: Option<String>,
    pub(crate) expires: Instant,
    pub(crate) used: bool,
}

/// What an access token stands for.
#[derive(Debug, Clone)]
pub(crate) struct AccessGrant {
    pub(crate) persona: Persona,
    expires: Instant,
    used: bool,
    from_code: Option<String>,
}

/// What a refresh token stands for.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) persona: Persona,
    pub(crate) scope: String,
    pub(crate) auth_time: i64,
    expires: Instant,
    pub(crate) from_code: Option<String>,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRefusal {
    Unknown,
    Expired,
    AlreadyUsed,
}

/// Outcome of redeeming an authorization code.
#[derive(Debug)]
pub(crate) enum Redeem {
    Ok(CodeGrant),
    /// No such code (or forgotten long ago).
    Unknown,
    /// The code was redeemed before; everything issued from it has now been revoked.
    Replayed,
    /// The code exists but may not be redeemed for the given reason.
    Refused(&'static str),
}

/// Codes, tokens and pending sign-ins.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pending: HashMap<String, Pending>,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    /// Every secret issued or received, newest last, at most [`SECRETS_KEPT`].
    secrets: std::collections::VecDeque<String>,
    /// The emulator's clock (the one in [`Shared`]).
    pub(crate) clock: crate::util::SimClock,
}

/// How many secrets [`Store::remember_secret`] keeps (a long-running emulator stays bounded).
const SECRETS_KEPT: usize = 4096;

impl Store {
    /// An empty store on `clock`.
    pub(crate) fn with_clock(clock: crate::util::SimClock) -> Self {
        Self {
            clock,
            ..Self::default()
        }
    }

    /// Forgets whatever has expired, so a long-running emulator does not grow without bound.
    fn purge(&mut self, now: Instant) {
        self.pending.retain(|_, p| p.expires > now);
        self.codes.retain(|_, c| c.expires + CODE_MEMORY > now);
        self.access.retain(|_, a| a.expires > now);
        self.refresh.retain(|_, r| r.expires > now);
    }

    /// Notes a secret value the emulator issued or was sent, for
    /// [`Emulator::issued_secrets`](crate::Emulator::issued_secrets).
    pub(crate) fn remember_secret(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        if self.secrets.len() == SECRETS_KEPT {
            self.secrets.pop_front();
        }
        self.secrets.push_back(secret.to_owned());
    }

    /// The secrets noted so far, oldest first.
    pub(crate) fn secrets(&self) -> Vec<String> {
        self.secrets.iter().cloned().collect()
    }

    pub(crate) fn add_pending(&mut self, request: AuthRequest) -> String {
        let now = self.clock.instant();
        self.purge(now);
        for secret in [&request.state, &request.nonce].into_iter().flatten() {
            self.remember_secret(secret);
        }
        let id = random_token();
        self.pending.insert(
            id.clone(),
            Pending {
                request,
                expires: now + PENDING_TTL,
            },
        );
        id
    }

    /// Takes a pending request out of the store (each can be answered once).
    pub(crate) fn take_pending(&mut self, id: &str) -> Option<AuthRequest> {
        let pending = self.pending.remove(id)?;
        (pending.expires > self.clock.instant()).then_some(pending.request)
    }

    pub(crate) fn issue_code(&mut self, grant: CodeGrant) -> String {
        self.purge(self.clock.instant());
        let code = random_token();
        self.remember_secret(&code);
        self.codes.insert(code.clone(), grant);
        code
    }

    /// Redeems a code for `client_id` and `redirect_uri`; PKCE is checked by the caller before
    /// [`Store::mark_code_used`].
    pub(crate) fn redeem_code(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
    ) -> Redeem {
        let now = self.clock.instant();
        let Some(grant) = self.codes.get(code) else {
            return Redeem::Unknown;
        };
        if grant.used {
            // RFC 6749 §4.1.2: a replayed code revokes every token issued from it.
            self.access
                .retain(|_, a| a.from_code.as_deref() != Some(code));
            self.refresh
                .retain(|_, r| r.from_code.as_deref() != Some(code));
            return Redeem::Replayed;
        }
        if grant.expires <= now {
            return Redeem::Refused("the authorization code has expired");
        }
        if grant.client_id != client_id {
            return Redeem::Refused("the authorization code was issued to another client");
        }
        if grant.redirect_uri != redirect_uri {
            return Redeem::Refused(
                "redirect_uri does not match the one of the authorization request",
            );
        }
        Redeem::Ok(grant.clone())
    }

    pub(crate) fn mark_code_used(&mut self, code: &str) {
        if let Some(grant) = self.codes.get_mut(code) {
            grant.used = true;
        }
    }

    pub(crate) fn issue_access(&mut self, persona: Persona, from_code: Option<&str>) -> String {
        let now = self.clock.instant();
        self.purge(now);
        let token = random_token();
        self.remember_secret(&token);
        self.access.insert(
            token.clone(),
            AccessGrant {
                persona,
                expires: now + Duration::from_secs(ACCESS_TTL_SECS),
                used: false,
                from_code: from_code.map(str::to_owned),
            },
        );
        token
    }

    pub(crate) fn issue_refresh(
        &mut self,
        client_id: &str,
        persona: Persona,
        scope: &str,
        auth_time: i64,
        from_code: Option<&str>,
    ) -> String {
        let token = random_token();
        self.remember_secret(&token);
        self.refresh.insert(
            token.clone(),
            RefreshGrant {
                client_id: client_id.to_owned(),
                persona,
                scope: scope.to_owned(),
                auth_time,
                expires: self.clock.instant() + Duration::from_secs(REFRESH_TTL_SECS),
                from_code: from_code.map(str::to_owned),
            },
        );
        token
    }

    /// Looks up an access token for a resource call, consuming it when tokens are single-use.
    pub(crate) fn use_access(
        &mut self,
        token: &str,
        single_use: bool,
    ) -> Result<Persona, TokenRefusal> {
        let grant = self.access.get_mut(token).ok_or(TokenRefusal::Unknown)?;
        if grant.expires <= self.clock.instant() {
            return Err(TokenRefusal::Expired);
        }
        if single_use {
            if grant.used {
                return Err(TokenRefusal::AlreadyUsed);
            }
            grant.used = true;
        }
        Ok(grant.persona)
    }

    /// Takes a refresh token out of the store (rotation: it never works again). A token of another client,
    /// or a request for scopes beyond the original grant, is refused and leaves the token in place.
    /// Errors are `(error code, description)`.
    pub(crate) fn take_refresh(
        &mut self,
        token: &str,
        client_id: &str,
        requested_scope: Option<&str>,
    ) -> Result<RefreshGrant, (&'static str, &'static str)> {
        const UNKNOWN: (&str, &str) = (
            "invalid_grant",
            "unknown, expired or already used refresh token",
        );
        let grant = self.refresh.get(token).ok_or(UNKNOWN)?;
        if grant.expires <= self.clock.instant() {
            self.refresh.remove(token);
            return Err(UNKNOWN);
        }
        if grant.client_id != client_id {
            return Err((
                "invalid_grant",
                "the refresh token was issued to another client",
            ));
        }
        if let Some(requested) = requested_scope {
            let granted: Vec<&str> = grant.scope.split(' ').collect();
            if requested
                .split(' ')
                .filter(|w| !w.is_empty())
                .any(|w| !granted.contains(&w))
            {
                return Err((
                    "invalid_scope",
                    "the requested scope exceeds the original grant",
                ));
            }
        }
        self.refresh.remove(token).ok_or(UNKNOWN)
    }
}

/// Everything the request handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    /// A public client: no secret at the token endpoint, PKCE required.
    pub(crate) public_client: bool,
    pub(crate) base_url: String,
    pub(crate) issuer: String,
    pub(crate) advertise_iss: bool,
    /// Discovery names the `end_session_endpoint`.
    pub(crate) end_session: bool,
    pub(crate) jwks_quirks: bool,
    pub(crate) single_use: bool,
    pub(crate) enabled_policies: Vec<String>,
    pub(crate) settings: Mutex<Settings>,
    pub(crate) keys: Mutex<KeyRing>,
    /// The security events it transmits: their keys, receiver and record.
    pub(crate) events: Mutex<crate::events::Transmitter>,
    /// The `iss` of its security events.
    pub(crate) events_issuer: String,
    pub(crate) store: Mutex<Store>,
    pub(crate) stats: Counters,
    /// The emulator's clock: token times and code, token and sign-in lifetimes.
    pub(crate) clock: crate::util::SimClock,
}

/// Locks a mutex, shrugging off poisoning: the data stays consistent because no handler panics while
/// holding a lock on purpose, and an emulator must keep answering.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The provider session id (`sid`) of `sub`'s sign-ins at this emulator: one session
    /// per user and emulator.
    pub(crate) fn provider_sid(&self, sub: &str) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{}|{sub}", self.issuer));
        hex::encode(&digest[..12])
    }

    pub(crate) fn faults(&self) -> Faults {
        lock(&self.settings).faults.clone()
    }

    pub(crate) fn set_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.settings).faults = Faults::new(faults);
    }

    pub(crate) fn auto_user(&self) -> Option<Persona> {
        lock(&self.settings).auto_user
    }

    pub(crate) fn is_registered_redirect(&self, uri: &str) -> bool {
        lock(&self.settings).redirect_uris.iter().any(|r| r == uri)
    }

    pub(crate) fn redirect_uris(&self) -> Vec<String> {
        lock(&self.settings).redirect_uris.clone()
    }

    /// Encrypts a signed JWT to the RP's key when one is registered (as ID.me does for
    /// clients that registered a certificate); returns it unchanged otherwise.
    pub(crate) fn maybe_encrypt(&self, jwt: String, faults: &Faults) -> Result<String, String> {
        // Every signed token the emulator issues passes here (ID tokens, signed userinfo).
        self.store().remember_secret(&jwt);
        let key = lock(&self.settings).rp_key.clone();
        match key {
            Some(key) => {
                let jwe = crate::encryption::encrypt(&jwt, &key)?;
                self.store().remember_secret(&jwe);
                Ok(if faults.has(&Fault::TamperedCiphertext) {
                    crate::encryption::tamper(&jwe)
                } else {
                    jwe
                })
            }
            None => Ok(jwt),
        }
    }

    pub(crate) fn signing_key(&self) -> Arc<SigningKey> {
        lock(&self.keys).current()
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }
}
