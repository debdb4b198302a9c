//! What every framework adapter does per request, written once.
//!
//! An adapter keeps one [`RequestAuth`] per request (in its request extensions or local
//! cache) and wraps it in its framework's idiom:
//!
//! - its `IdmeUser` extractor or guard calls [`RequestAuth::user`], `Option<IdmeUser>`
//!   [`RequestAuth::optional_user`], its `Verified<R>` [`RequestAuth::verified`], its
//!   `Fresh<N>` [`RequestAuth::fresh`] (a recent sign-in, see `step_up`): the
//!   session is authenticated once per request, however many ask, and a failure comes back
//!   as a [`Rejection`] holding its [reason](RejectionReason) (for an application that
//!   answers on its own) and the answer to send (negotiated on `Accept`);
//! - its response hook (a layer, middleware or fairing) calls [`RequestAuth::finish`] and
//!   sets the cookies authentication produced (a re-sealed session, a dead session's
//!   deletion), and answers with [`ResponseEffects::replace`] when a guard met an outage.
//!
//! The outcome is the same in every adapter: no session is `401` JSON for API clients and
//! a `303` to sign in for browsers, `None` for `Option<IdmeUser>`; a session store that is
//! down is `503`, also for `Option<IdmeUser>` (treating the user as anonymous would hide
//! the outage); an engine the application did not register is a `500` whose body names the
//! adapter's setup call; a user without a required verification gets `403`.
//!
//! [`adapter_types!`](crate::adapter_types) declares an adapter's `IdmeUser` and
//! `Verified<R>` newtypes with their `Deref` and `Debug`.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OnceCell;

use crate::cookies::{RequestCookies, SetCookie};
use crate::cross_site::Provenance;
use crate::engine::Idme;
use crate::error::Error;
use crate::reply::Reply;
use crate::user::IdmeUser;
use crate::user::{Authenticated, Denied};

mod bearer;
mod rejection;
mod route;
mod step_up;
mod types;
pub use crate::request::RouteRequest;
use crate::verification::Requirement;
pub use rejection::{Rejection, RejectionReason, missing_setup};
pub use route::{ExtensionRouteId, Route};

/// One request, as a guard sees it.
#[derive(Debug, Clone, Copy)]
pub struct GuardRequest<'a> {
    /// The engine, if the application registered it.
    pub idme: Option<&'a Idme>,
    /// The adapter's call that registers the engine, e.g.
    /// `.layer(IdmeLayer::new(idme))`: named in the `500` a missing engine gets.
    pub setup: &'static str,
    /// The request's `Accept` header: browsers get pages and redirects, others JSON.
    pub accept: Option<&'a str>,
    /// The request's path and query, where a browser comes back to after signing in.
    pub path_and_query: &'a str,
    /// The request's `Authorization` header: a `Bearer <token>` that a registered
    /// [extension](crate::extension::Extension) recognizes authenticates the request
    /// instead of the session cookie. Any other value (another scheme, a token that is not
    /// this application's, such as an API gateway's) is ignored: the session cookie
    /// decides.
    pub authorization: Option<&'a str>,
    /// The request's method: a request that acts with the session cookie and an unsafe
    /// method (`POST`, `PUT`, `PATCH`, `DELETE`, …) must come from the application's own
    /// pages (see [`cross_site`](crate::cross_site)).
    pub method: &'a str,
    /// The request's `Origin` and `Sec-Fetch-Site` headers: where it says it comes from.
    pub provenance: Provenance<'a>,
    /// The request's `Sec-Fetch-Mode` header: a browser's `fetch` (`cors`, `same-origin`,
    /// `no-cors`) gets JSON and a `401`, never a page or a redirect, whatever its `Accept`.
    pub sec_fetch_mode: Option<&'a str>,
}

impl GuardRequest<'_> {
    /// The bearer token the request presents, when an extension recognizes it.
    fn bearer(&self) -> Option<&str> {
        let idme = self.idme?;
        let token = bearer::credential(self.authorization?)?;
        idme.recognizes_bearer(token).then_some(token)
    }

    /// The `Accept` to negotiate the answer on: none (JSON) for a browser's `fetch`, which
    /// must not be answered with a page or a redirect to sign in.
    fn accept(&self) -> Option<&str> {
        match self.sec_fetch_mode.map(str::trim) {
            Some(mode) if !mode.eq_ignore_ascii_case("navigate") => None,
            _ => self.accept,
        }
    }

    /// Refused unless the request, acting with the session cookie, comes from the
    /// application's own pages (or a trusted origin's): `Ok` for a safe method, and for a
    /// request presenting a bearer token an extension recognizes (it carries no ambient
    /// authority).
    fn check_cross_site(&self, idme: &Idme) -> Result<(), Rejection> {
        // The method first: a safe one (every page view) needs no look at the bearer token.
        let site_origins = idme.config().site_origins();
        if site_origins.permits(self.method, self.provenance) || self.bearer().is_some() {
            return Ok(());
        }
        tracing::warn!(
            target: "idme::rejection",
            method = self.method,
            origin = self.provenance.origin,
            sec_fetch_site = self.provenance.sec_fetch_site,
            "cross-site request refused"
        );
        let html = crate::reply::wants_html(self.accept());
        Err(Rejection::new(
            RejectionReason::CrossSite,
            rejection::cross_site(html),
        ))
    }
}

/// What a response must carry once the handler (or a guard) answered.
#[derive(Debug, Default)]
#[must_use]
pub struct ResponseEffects {
    /// The answer to send instead of the handler's: set when a guard met an outage (the
    /// session store down, the engine missing) or refused a bearer token, which a
    /// framework's blanket `Option` extractor may have swallowed, unless the application
    /// read the [`Rejection`]'s reason (its answer then stands).
    pub replace: Option<Reply>,
    /// Cookies to set on the response, whichever it is.
    pub set_cookies: Vec<SetCookie>,
}

/// The old name of [`ResponseEffects`].
#[deprecated(since = "0.1.0", note = "renamed ResponseEffects")]
pub type Finish = ResponseEffects;

/// The sign-in state of one request: the remembered outcome of
/// [`Idme::authenticate`], the cookies it produced, and the last guard's failure. Cheap to
/// clone (all clones share the state); create one per request.
#[derive(Clone, Default)]
pub struct RequestAuth(Arc<Shared>);

#[derive(Default)]
struct Shared {
    outcome: OnceCell<Result<IdmeUser, Error>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    set_cookies: Vec<SetCookie>,
    rejection: Option<Rejection>,
    /// The rejection refused a bearer token: answered even where an `Option` guard let
    /// the handler run (a presented bad credential is never "anonymous").
    bearer_refused: bool,
}

impl std::fmt::Debug for RequestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestAuth")
            .field("authenticated", &self.0.outcome.get().map(Result::is_ok))
            .finish_non_exhaustive()
    }
}

impl RequestAuth {
    /// The state of a new request.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reject(&self, rejection: Rejection) -> Rejection {
        self.state().rejection = Some(rejection.clone());
        rejection
    }

    /// The signed-in user, or why there is none: authenticates the request on the first
    /// call (`cookies` is read only then) and remembers the outcome.
    pub async fn user(
        &self,
        req: &GuardRequest<'_>,
        cookies: impl FnOnce() -> RequestCookies,
    ) -> Result<IdmeUser, Rejection> {
        let Some(idme) = req.idme else {
            return Err(self.reject(missing_setup("Idme engine", req.setup)));
        };
        let bearer = req.bearer();
        let outcome = self
            .0
            .outcome
            .get_or_init(|| async move {
                if let Some(token) = bearer {
                    return idme.authenticate_bearer(token).await;
                }
                let (outcome, set_cookies) = match idme.authenticate(&cookies()).await {
                    Ok(Authenticated { user, set_cookies }) => (Ok(user), set_cookies),
                    Err(Denied { error, set_cookies }) => (Err(error), set_cookies),
                };
                self.state().set_cookies.extend(set_cookies);
                outcome
            })
            .await;
        match outcome {
            Ok(user) => match req.check_cross_site(idme) {
                Ok(()) => Ok(user.clone()),
                Err(rejection) => Err(self.reject(rejection)),
            },
            Err(error) if bearer.is_some() => {
                tracing::debug!(target: "idme::rejection", reason = %error, "bearer token refused");
                self.state().bearer_refused = true;
                let reply = bearer::rejection(error);
                Err(self.reject(Rejection::new(
                    RejectionReason::of(error.clone(), true),
                    reply,
                )))
            }
            Err(error @ Error::Unauthenticated(_))
                if idme.accepts_bearer() && !crate::reply::wants_html(req.accept()) =>
            {
                // An API client without credentials where bearer tokens are accepted: the
                // bearer challenge (RFC 6750 §3), and the bearer errors' JSON.
                tracing::trace!(target: "idme::rejection", reason = %error, "no credentials");
                let reply = bearer::no_credentials(error);
                Err(self.reject(Rejection::new(
                    RejectionReason::of(error.clone(), false),
                    reply,
                )))
            }
            Err(error) => {
                tracing::trace!(target: "idme::rejection", reason = %error, "no signed-in user");
                let denied = Denied {
                    error: error.clone(),
                    set_cookies: Vec::new(),
                };
                let reply = idme.unauthenticated(denied, req.accept(), req.path_and_query);
                Err(self.reject(Rejection::new(
                    RejectionReason::of(error.clone(), false),
                    reply,
                )))
            }
        }
    }

    /// The signed-in user, `None` when nobody is signed in; an outage (the session store
    /// down, the engine missing) is still a [`Rejection`], and so is a bearer token that
    /// fails (a presented credential is never taken for "anonymous").
    pub async fn optional_user(
        &self,
        req: &GuardRequest<'_>,
        cookies: impl FnOnce() -> RequestCookies,
    ) -> Result<Option<IdmeUser>, Rejection> {
        match self.user(req, cookies).await {
            Ok(user) => Ok(Some(user)),
            Err(rejection)
                if rejection.is_outage() || req.bearer().is_some() || rejection.is_cross_site() =>
            {
                Err(rejection)
            }
            Err(_) => {
                self.state().rejection = None;
                Ok(None)
            }
        }
    }

    /// The signed-in user if they meet `requirement`; a user who does not gets `403` with
    /// an offer to verify with ID.me (a page for browsers, JSON with `verify_url` for API
    /// clients).
    pub async fn verified(
        &self,
        req: &GuardRequest<'_>,
        cookies: impl FnOnce() -> RequestCookies,
        requirement: &Requirement,
    ) -> Result<IdmeUser, Rejection> {
        let user = self.user(req, cookies).await?;
        let Some(idme) = req.idme else {
            return Err(self.reject(missing_setup("Idme engine", req.setup)));
        };
        let requirement_and_url = || {
            let verify_url = idme.verify_url_for(&requirement.policy(), req.path_and_query);
            (requirement.clone(), verify_url)
        };
        match req.bearer() {
            None => match idme.require(&user, requirement, req.accept(), req.path_and_query) {
                Ok(()) => Ok(user),
                Err(reply) => {
                    let (requirement, verify_url) = requirement_and_url();
                    let reason = RejectionReason::NotVerified {
                        requirement,
                        verify_url,
                    };
                    Err(self.reject(Rejection::new(reason, reply)))
                }
            },
            // A bearer client is an API client: JSON, and RFC 6750's error.
            // A bearer user shows only the policies its token was granted, so a policy the
            // person verified but did not grant fails here too.
            Some(_) => match idme.require(&user, requirement, None, req.path_and_query) {
                Ok(()) => Ok(user),
                Err(reply) => {
                    let reply = bearer::insufficient_scope(reply, &requirement.policy());
                    let (requirement, verify_url) = requirement_and_url();
                    let reason = RejectionReason::InsufficientScope {
                        requirement,
                        verify_url,
                    };
                    Err(self.reject(Rejection::new(reason, reply)))
                }
            },
        }
    }

    /// Refused (`403`) unless the request comes from the application's own pages (or a
    /// trusted origin's) by the rule of [`cross_site`](crate::cross_site), for a route that
    /// acts with the session cookie without asking for the user. A safe method passes, and
    /// so does a request presenting a bearer token an extension recognizes.
    pub fn same_origin(&self, req: &GuardRequest<'_>) -> Result<(), Rejection> {
        let Some(idme) = req.idme else {
            return Err(self.reject(missing_setup("Idme engine", req.setup)));
        };
        req.check_cross_site(idme).map_err(|r| self.reject(r))
    }

    /// The failure of the last guard that failed, if any: for a framework whose error
    /// handler (a Rocket catcher) answers after the guard. Reading its reason hands the
    /// answer to the application, as for the rejection the guard returned.
    pub fn rejection(&self) -> Option<Rejection> {
        self.state().rejection.clone()
    }

    /// What the response must carry: the cookies authentication produced (taken: a second
    /// call gives none), and the answer to an outage a guard met, if any.
    pub fn response_effects(&self) -> ResponseEffects {
        let mut state = self.state();
        ResponseEffects {
            replace: state
                .rejection
                .as_ref()
                .filter(|r| {
                    (r.is_outage() || state.bearer_refused || r.is_cross_site()) && !r.was_read()
                })
                .map(|r| r.reply.clone()),
            set_cookies: std::mem::take(&mut state.set_cookies),
        }
    }

    /// The old name of [`response_effects`](Self::response_effects).
    #[deprecated(since = "0.1.0", note = "renamed response_effects")]
    pub fn finish(&self) -> ResponseEffects {
        self.response_effects()
    }
}
