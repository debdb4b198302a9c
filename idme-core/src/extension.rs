//! The seam for roles built on top of the engine, such as the authorization server of
//! `idme-apps` (devices and native apps signing in through the person's web session).
//!
//! An [`Extension`] is registered on the engine
//! ([`Idme::builder`](crate::Idme::builder)`(config).`[`extension`](crate::EngineBuilder::extension)`(..)`)
//! and may contribute three things, nothing else:
//!
//! - **routes**, which the adapters mount beside the sign-in routes (they iterate
//!   [`Route::all`](crate::adapter::Route::all) and never name an extension);
//! - **a bearer authenticator**, which the adapters' `IdmeUser` consults for an
//!   `Authorization: Bearer` token the extension [recognizes](Extension::recognizes_bearer);
//! - **a hook when a person's sessions end** (a logout here, a back-channel logout or a
//!   security event from the provider), so that what the extension issued on the strength of a session ends with it.
//!
//! The engine stays the one place that signs people in: an extension sees the signed-in
//! person through its [`Host`] (the engine, [`Idme`](crate::Idme), which implements it)
//! like any handler does. This module sits below the engine: an extension knows the
//! engine only through [`Host`].

use crate::config::IdmeConfig;
use crate::cookies::RequestCookies;
use crate::error::Error;
use crate::reply::Reply;
use crate::request::RouteRequest;
use crate::store::StoreError;
use crate::user::{Authenticated, Denied, IdmeUser};
use crate::verification::Policy;

/// What an [`Extension`] may ask of the engine that runs it. [`Idme`](crate::Idme)
/// implements it; an extension's methods are handed the engine as `&dyn Host`.
#[async_trait::async_trait]
pub trait Host: Send + Sync {
    /// The engine's configuration ([`Idme::config`](crate::Idme::config)).
    fn config(&self) -> &IdmeConfig;

    /// The signed-in person of a request, from its cookies
    /// ([`Idme::authenticate`](crate::Idme::authenticate)).
    async fn authenticate(&self, cookies: &RequestCookies) -> Result<Authenticated, Denied>;

    /// What to answer a request that needs a person but has none
    /// ([`Idme::unauthenticated`](crate::Idme::unauthenticated)).
    fn unauthenticated(&self, denied: Denied, accept: Option<&str>, path_and_query: &str) -> Reply;

    /// The login route asking ID.me for `policy`, returning to `return_to`
    /// ([`Idme::verify_url_for`](crate::Idme::verify_url_for)).
    fn verify_url_for(&self, policy: &Policy, return_to: &str) -> String;
}

/// A route an [`Extension`] answers, at `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRoute {
    /// The path, e.g. `/auth/device`.
    pub path: String,
    /// Whether it answers `GET`.
    pub get: bool,
    /// Whether it answers `POST`.
    pub post: bool,
}

/// Why a person's sessions ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionsEndedReason {
    /// The person logged out of one browser: that web session ended.
    Logout,
    /// The person asked to be signed out everywhere: every session and everything issued
    /// to them ends.
    LogoutEverywhere,
    /// The provider ended them (OIDC back-channel logout): those of its session `sid`, or
    /// all of the person's.
    BackchannelLogout,
    /// The provider's security event (Shared Signals Framework) ended the person's access:
    /// account disabled or purged, credential compromised, sessions revoked, … (see
    /// [`SecurityEventKind::ends_access`](crate::events::SecurityEventKind::ends_access)).
    /// Everything issued to the person ends.
    SecurityEvent,
}

/// Whose sessions ended ([`Extension::sessions_ended`]).
#[derive(Debug, Clone, Copy)]
pub struct SessionsEnded<'a> {
    /// Why.
    pub reason: SessionsEndedReason,
    /// The person, when known.
    pub sub: Option<&'a str>,
    /// The provider's session (ID.me's `sid`), when known.
    pub provider_sid: Option<&'a str>,
    /// The web session that ended, for a [`Logout`](SessionsEndedReason::Logout) (its
    /// [`IdmeUser::session_id`]).
    pub session_id: Option<&'a str>,
}

/// A role built on top of the engine: its routes, its bearer tokens, and what ends with a
/// person's sessions. See the [module docs](self).
///
/// Every method has a default that contributes nothing, so an extension implements only
/// what it has.
#[async_trait::async_trait]
pub trait Extension: Send + Sync + std::fmt::Debug + 'static {
    /// Checks the extension against the engine's configuration when the engine is built
    /// ([`EngineBuilder::build`](crate::EngineBuilder::build)); the message is reported as a
    /// configuration error.
    fn check(&self, config: &IdmeConfig) -> Result<(), String> {
        let _ = config;
        Ok(())
    }

    /// The routes the adapters mount for it. Read once, when the engine is created.
    fn routes(&self) -> Vec<ExtensionRoute> {
        Vec::new()
    }

    /// The answer to `req` on its route number `route` (an index into
    /// [`routes`](Self::routes)).
    async fn answer(&self, host: &dyn Host, route: usize, req: RouteRequest<'_>) -> Reply {
        let _ = (host, route, req);
        Reply::html(404, "Not found.".into())
    }

    /// Whether `token` (of an `Authorization: Bearer` header) is one of this extension's:
    /// decided from its shape alone, without a store call. A token nobody recognizes is
    /// not this application's (an API gateway's, say): the request is authenticated by its
    /// session cookie as if the header were absent.
    fn recognizes_bearer(&self, token: &str) -> bool {
        let _ = token;
        false
    }

    /// The user of a bearer token the extension [recognizes](Self::recognizes_bearer):
    /// [`Unauthenticated::InvalidToken`](crate::Unauthenticated::InvalidToken) when it is
    /// unknown, expired or revoked, [`Error::SessionStoreUnavailable`] on an outage.
    async fn authenticate_bearer(&self, host: &dyn Host, token: &str) -> Result<IdmeUser, Error> {
        let _ = (host, token);
        Err(crate::Unauthenticated::InvalidToken.into())
    }

    /// Whether requests may authenticate with this extension's bearer tokens: their
    /// routes then answer a request without credentials with `WWW-Authenticate: Bearer`.
    fn accepts_bearer(&self) -> bool {
        false
    }

    /// Ends what the extension issued on the strength of sessions that ended. An error
    /// is reported to whoever ended them (the logout page says so, a back-channel logout
    /// is answered `5xx` so the provider retries): never a silent success.
    async fn sessions_ended(
        &self,
        host: &dyn Host,
        ended: SessionsEnded<'_>,
    ) -> Result<(), StoreError> {
        let _ = (host, ended);
        Ok(())
    }
}
