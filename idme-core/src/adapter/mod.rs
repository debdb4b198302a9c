//! What every framework adapter does per request, written once.
//!
//! An adapter keeps one [`RequestAuth`] per request (in its request extensions or local
//! cache) and wraps it in its framework's idiom:
//!
//! - its `IdmeUser` extractor or guard calls [`RequestAuth::user`], `Option<IdmeUser>`
//!   [`RequestAuth::optional_user`], its `Verified<R>` [`RequestAuth::verified`]: the
//!   session is authenticated once per request, however many ask, and a failure comes back
//!   as a [`Rejection`] holding its [reason](RejectionReason) (for an application that
//!   answers on its own) and the answer to send (negotiated on `Accept`);
//! - its response hook (a layer, middleware or fairing) calls [`RequestAuth::finish`] and
//!   sets the cookies authentication produced (a re-sealed session, a dead session's
//!   deletion), and answers with [`Finish::replace`] when a guard met an outage.
//!
//! The outcome is the same in every adapter: no session is `401` JSON for API clients and
//! a `303` to sign in for browsers, `None` for `Option<IdmeUser>`; a session store that is
//! down is `503`, also for `Option<IdmeUser>` (treating the user as anonymous would hide
//! the outage); an engine the application did not register is a `500` whose body names the
//! adapter's setup call; a user without a required verification gets `403`.
//!
//! [`adapter_types!`](crate::adapter_types) declares an adapter's `IdmeUser` and
//! `Verified<R>` newtypes with their `Deref` and `Debug`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OnceCell;

use crate::cookies::{RequestCookies, SetCookie};
use crate::engine::Idme;
use crate::error::Error;
use crate::reply::Reply;
use crate::session::{Authenticated, Denied};
use crate::user::IdmeUser;

mod bearer;
mod route;
use crate::verification::Requirement;
pub use route::{ExtensionRouteId, Route, RouteRequest};

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
}

impl GuardRequest<'_> {
    /// The bearer token the request presents, when an extension recognizes it.
    fn bearer(&self) -> Option<&str> {
        let idme = self.idme?;
        let token = bearer::credential(self.authorization?)?;
        idme.recognizes_bearer(token).then_some(token)
    }
}

/// Why a guard failed, and what to answer: the [`reason`](Self::reason) an application
/// can match on to render its own answer, and the engine's default answer
/// ([`reply`](Self::reply)). Each adapter's `IdmeRejection` wraps one and has the same
/// accessors.
///
/// ```
/// use idme_core::adapter::{Rejection, RejectionReason};
/// use idme_core::{Error, Reply, Unauthenticated};
///
/// /// An application's own answer to a failed `Verified<R>`.
/// fn my_page(rejection: Rejection) -> Reply {
///     match rejection.reason() {
///         RejectionReason::NotSignedIn(Error::Unauthenticated(Unauthenticated::Expired)) => {
///             Reply::html(401, "Your session expired: please sign in again.".into())
///         }
///         RejectionReason::NotVerified { requirement, verify_url } => Reply::html(
///             403,
///             format!("Verify {:?} first: <a href=\"{verify_url}\">verify</a>", requirement.group()),
///         ),
///         RejectionReason::StoreUnavailable(_) => {
///             Reply::html(503, "We are having trouble: try again in a minute.".into())
///         }
///         // Anything else (a browser without a session, a bad bearer token, …): the
///         // engine's answer.
///         _ => rejection.reply,
///     }
/// }
/// ```
///
/// Reading the reason ([`reason`](Self::reason), [`error`](Self::error)) hands the answer
/// to the application: the adapter's response hook no longer replaces the handler's
/// response with the engine's answer to an outage or a refused bearer token, which it
/// does when a handler let such a rejection pass unread (e.g. behind actix-web's or
/// Rocket's blanket `Option<T>`): an outage or a bad credential is never silently
/// "anonymous".
#[derive(Clone)]
pub struct Rejection {
    /// The failure: `401` nobody signed in, `403` not verified, `500` the engine or
    /// another part of the setup is missing, `503` the session store is down. The
    /// answer's own status may differ (a browser without a session gets a `303`).
    pub status: u16,
    /// The answer to send (the engine's default).
    pub reply: Reply,
    /// The reason, and whether the application read it (shared by the clones; boxed so
    /// that a `Result<_, Rejection>` stays small).
    reason: Arc<Reason>,
}

struct Reason {
    reason: RejectionReason,
    read: AtomicBool,
}

/// Why a guard failed, for an application that answers on its own
/// ([`Rejection::reason`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionReason {
    /// Nobody is signed in: no session cookie, or one that expired, was ended or cannot
    /// be opened (the [`Error::Unauthenticated`] says which). `401`; the default answer is
    /// a `303` to sign in for browsers, `401` JSON for API clients.
    NotSignedIn(Error),
    /// An `Authorization: Bearer` token that a registered
    /// [extension](crate::extension::Extension) recognizes was refused (unknown, expired,
    /// revoked; an [`Error::Unauthenticated`]). `401` with RFC 6750's `invalid_token`.
    InvalidBearer(Error),
    /// The signed-in user lacks a verification the route requires (`Verified<R>`). `403`
    /// with an offer to verify.
    NotVerified {
        /// What the route requires.
        requirement: Requirement,
        /// The login route asking ID.me for the verification, returning to the request.
        verify_url: String,
    },
    /// A bearer client's token was not granted (or its person has not verified) what the
    /// route requires. `403` with RFC 6750's `insufficient_scope`.
    InsufficientScope {
        /// What the route requires.
        requirement: Requirement,
        /// The login route asking ID.me for the verification, returning to the request.
        verify_url: String,
    },
    /// The session store (or an extension's store) is down
    /// ([`Error::SessionStoreUnavailable`]). `503`, also for `Option<IdmeUser>`.
    StoreUnavailable(Error),
    /// Part of the adapter's setup is missing (the engine, a middleware). `500` naming
    /// the setup call.
    MissingSetup {
        /// What is missing, e.g. "Idme engine".
        what: String,
        /// The call that provides it, e.g. `.layer(IdmeLayer::new(idme))`.
        setup: String,
    },
    /// Any other failure of the engine (e.g. an extension's); the status is
    /// [`Error::status`].
    Failed(Error),
}

impl RejectionReason {
    /// The reason of an authentication failure (`bearer`: of a bearer token).
    fn of(error: Error, bearer: bool) -> Self {
        match error {
            Error::SessionStoreUnavailable(_) => Self::StoreUnavailable(error),
            Error::Unauthenticated(_) if bearer => Self::InvalidBearer(error),
            Error::Unauthenticated(_) => Self::NotSignedIn(error),
            error => Self::Failed(error),
        }
    }

    /// The failure's HTTP status (`401`, `403`, `500`, `503`, …).
    pub fn status(&self) -> u16 {
        match self {
            Self::NotVerified { .. } | Self::InsufficientScope { .. } => 403,
            Self::MissingSetup { .. } => 500,
            Self::NotSignedIn(e)
            | Self::InvalidBearer(e)
            | Self::StoreUnavailable(e)
            | Self::Failed(e) => e.status().as_u16(),
        }
    }

    /// The engine's error, when there is one (not for a missing verification or setup).
    pub fn error(&self) -> Option<&Error> {
        match self {
            Self::NotSignedIn(e)
            | Self::InvalidBearer(e)
            | Self::StoreUnavailable(e)
            | Self::Failed(e) => Some(e),
            Self::NotVerified { .. }
            | Self::InsufficientScope { .. }
            | Self::MissingSetup { .. } => None,
        }
    }

    /// The requirement the user does not meet, for a missing verification.
    pub fn requirement(&self) -> Option<&Requirement> {
        match self {
            Self::NotVerified { requirement, .. } | Self::InsufficientScope { requirement, .. } => {
                Some(requirement)
            }
            _ => None,
        }
    }

    /// Where to verify with ID.me, for a missing verification.
    pub fn verify_url(&self) -> Option<&str> {
        match self {
            Self::NotVerified { verify_url, .. } | Self::InsufficientScope { verify_url, .. } => {
                Some(verify_url)
            }
            _ => None,
        }
    }
}

/// For logs: never a secret.
impl std::fmt::Display for RejectionReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotSignedIn(e) | Self::StoreUnavailable(e) | Self::Failed(e) => write!(f, "{e}"),
            Self::InvalidBearer(e) => write!(f, "bearer token refused: {e}"),
            Self::NotVerified { requirement, .. } => {
                write!(f, "verification required: {requirement:?}")
            }
            Self::InsufficientScope { requirement, .. } => {
                write!(f, "insufficient scope: {requirement:?}")
            }
            Self::MissingSetup { what, setup } => write!(f, "missing {what}: add `{setup}`"),
        }
    }
}

impl Rejection {
    /// A rejection for `reason`, answered with `reply` by default; its status is
    /// [`RejectionReason::status`].
    pub fn new(reason: RejectionReason, reply: Reply) -> Self {
        Self {
            status: reason.status(),
            reply,
            reason: Arc::new(Reason {
                reason,
                read: AtomicBool::new(false),
            }),
        }
    }

    /// Why the guard failed. Reading it hands the answer to the application (see the
    /// [type's docs](Self)).
    pub fn reason(&self) -> &RejectionReason {
        self.reason.read.store(true, Ordering::Relaxed);
        &self.reason.reason
    }

    /// The engine's error, when there is one ([`RejectionReason::error`]). Reading it
    /// hands the answer to the application, as [`reason`](Self::reason) does.
    pub fn error(&self) -> Option<&Error> {
        self.reason().error()
    }

    /// The engine's default answer.
    pub fn into_reply(self) -> Reply {
        self.reply
    }

    /// Whether the failure is an outage (`5xx`), which no guard may turn into "anonymous".
    pub fn is_outage(&self) -> bool {
        self.status >= 500
    }

    /// Whether the application read the reason.
    fn was_read(&self) -> bool {
        self.reason.read.load(Ordering::Relaxed)
    }
}

/// The reason, the status, the reply (which shows no cookie value).
impl std::fmt::Debug for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rejection")
            .field("status", &self.status)
            .field("reason", &self.reason.reason)
            .field("reply", &self.reply)
            .finish()
    }
}

/// The reason, for logs (reading it so does not hand the answer to the application).
impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (answered {})", self.reason.reason, self.reply.status)
    }
}

/// The `500` answered when part of an adapter's setup is missing: `what` (e.g. "Idme
/// engine") and the `setup` call that provides it, both in the body and in the log.
pub fn missing_setup(what: &str, setup: &str) -> Rejection {
    tracing::error!(target: "idme::rejection", "{what} missing from the request: add `{setup}` to the application");
    // Plain text: the setup call is shown as written, `&` and all.
    let reply = Reply {
        status: 500,
        headers: vec![
            ("content-type", "text/plain; charset=utf-8".into()),
            ("cache-control", "no-store".into()),
            ("x-content-type-options", "nosniff".into()),
        ],
        set_cookies: Vec::new(),
        body: format!("Missing {what}. Is it registered? Add `{setup}` to the application."),
    };
    let reason = RejectionReason::MissingSetup {
        what: what.into(),
        setup: setup.into(),
    };
    Rejection::new(reason, reply)
}

/// What a response must carry once the handler (or a guard) answered.
#[derive(Debug, Default)]
#[must_use]
pub struct Finish {
    /// The answer to send instead of the handler's: set when a guard met an outage (the
    /// session store down, the engine missing) or refused a bearer token, which a
    /// framework's blanket `Option` extractor may have swallowed, unless the application
    /// read the [`Rejection`]'s reason (its answer then stands).
    pub replace: Option<Reply>,
    /// Cookies to set on the response, whichever it is.
    pub set_cookies: Vec<SetCookie>,
}

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
            Ok(user) => Ok(user.clone()),
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
                if idme.accepts_bearer() && !crate::reply::wants_html(req.accept) =>
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
                let reply = idme.unauthenticated(denied, req.accept, req.path_and_query);
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
            Err(rejection) if rejection.is_outage() || req.bearer().is_some() => Err(rejection),
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
            None => match idme.require(&user, requirement, req.accept, req.path_and_query) {
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

    /// The failure of the last guard that failed, if any: for a framework whose error
    /// handler (a Rocket catcher) answers after the guard. Reading its reason hands the
    /// answer to the application, as for the rejection the guard returned.
    pub fn rejection(&self) -> Option<Rejection> {
        self.state().rejection.clone()
    }

    /// What the response must carry: the cookies authentication produced (taken: a second
    /// call gives none), and the answer to an outage a guard met, if any.
    pub fn finish(&self) -> Finish {
        let mut state = self.state();
        Finish {
            replace: state
                .rejection
                .as_ref()
                .filter(|r| (r.is_outage() || state.bearer_refused) && !r.was_read())
                .map(|r| r.reply.clone()),
            set_cookies: std::mem::take(&mut state.set_cookies),
        }
    }
}

/// Declares an adapter's `IdmeUser` and `Verified<R>` newtypes, with the `Deref` to
/// [`IdmeUser`](crate::IdmeUser), `From`, `Debug` and `Clone` every adapter needs, and,
/// if asked for, an `IdmeRejection` wrapping a [`Rejection`] (`status`, `reason`, `error`,
/// `reply`, `into_reply`, `into_rejection`, `From<Rejection>`, `Display`): the adapter
/// adds its framework's extractor impls and any docs of its own.
///
/// ```
/// idme_core::adapter_types! {
///     /// The signed-in user.
///     pub struct IdmeUser;
///     pub struct Verified;
///     pub struct IdmeRejection;
/// }
/// fn sub(user: &Verified<idme_core::require::Veteran>) -> &str {
///     user.sub()
/// }
/// ```
#[macro_export]
macro_rules! adapter_types {
    (
        $(#[$user:meta])* pub struct IdmeUser;
        $(#[$verified:meta])* pub struct Verified;
        $($(#[$rejection:meta])* pub struct IdmeRejection;)?
    ) => {
        $(#[$user])*
        #[derive(Debug, Clone)]
        pub struct IdmeUser(pub $crate::IdmeUser);

        impl ::std::ops::Deref for IdmeUser {
            type Target = $crate::IdmeUser;
            fn deref(&self) -> &$crate::IdmeUser {
                &self.0
            }
        }

        impl ::std::convert::From<$crate::IdmeUser> for IdmeUser {
            fn from(user: $crate::IdmeUser) -> Self {
                Self(user)
            }
        }

        /// A signed-in user who meets the verification requirement `R` (e.g.
        /// `Verified<idme_core::require::Veteran>`). Without a session it fails like
        /// [`IdmeUser`]; a user who lacks the verification is answered `403` with an offer
        /// to verify with ID.me (an HTML page for browsers, JSON for API clients).
        $(#[$verified])*
        pub struct Verified<R> {
            /// The user.
            pub user: IdmeUser,
            _requirement: ::std::marker::PhantomData<fn() -> R>,
        }

        impl<R> ::std::convert::From<$crate::IdmeUser> for Verified<R> {
            fn from(user: $crate::IdmeUser) -> Self {
                Self {
                    user: IdmeUser(user),
                    _requirement: ::std::marker::PhantomData,
                }
            }
        }

        impl<R> ::std::fmt::Debug for Verified<R> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_tuple("Verified").field(&self.user).finish()
            }
        }

        impl<R> ::std::ops::Deref for Verified<R> {
            type Target = $crate::IdmeUser;
            fn deref(&self) -> &$crate::IdmeUser {
                &self.user.0
            }
        }

        $(
            /// Why [`IdmeUser`] or [`Verified`] could not be extracted: the engine's
            /// [`Rejection`]($crate::adapter::Rejection). Responds with the engine's
            /// default answer; take it as `Result<IdmeUser, IdmeRejection>` (or
            /// `Result<Verified<R>, IdmeRejection>`) to match on its
            /// [`reason`](Self::reason) and answer on your own:
            ///
            /// ```ignore
            /// match rejection.reason() {
            ///     RejectionReason::NotSignedIn(_) => { /* your sign-in page */ }
            ///     RejectionReason::NotVerified { requirement, verify_url } => { /* … */ }
            ///     RejectionReason::StoreUnavailable(_) => { /* your outage page */ }
            ///     _ => { /* rejection.into_reply(): the engine's answer */ }
            /// }
            /// ```
            ///
            /// Reading the reason hands the answer to the application: the adapter's
            /// response hook then keeps the handler's response even for an outage or a
            /// refused bearer token.
            $(#[$rejection])*
            #[derive(Debug, Clone)]
            pub struct IdmeRejection($crate::adapter::Rejection);

            impl IdmeRejection {
                /// The failure's HTTP status: `401` nobody signed in, `403` not verified,
                /// `500` missing setup, `503` the session store down. The default
                /// answer's own status may differ (a browser without a session gets a
                /// `303`).
                pub fn status(&self) -> u16 {
                    self.0.status
                }

                /// Why the guard failed, to match on.
                pub fn reason(&self) -> &$crate::adapter::RejectionReason {
                    self.0.reason()
                }

                /// The engine's error, when there is one (not for a missing
                /// verification or setup).
                pub fn error(&self) -> ::std::option::Option<&$crate::Error> {
                    self.0.error()
                }

                /// The engine's default answer.
                pub fn reply(&self) -> &$crate::Reply {
                    &self.0.reply
                }

                /// The engine's default answer, owned.
                pub fn into_reply(self) -> $crate::Reply {
                    self.0.into_reply()
                }

                /// The engine's rejection.
                pub fn into_rejection(self) -> $crate::adapter::Rejection {
                    self.0
                }
            }

            impl ::std::convert::From<$crate::adapter::Rejection> for IdmeRejection {
                fn from(rejection: $crate::adapter::Rejection) -> Self {
                    Self(rejection)
                }
            }

            /// The reason and the status, for logs.
            impl ::std::fmt::Display for IdmeRejection {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    ::std::fmt::Display::fmt(&self.0, f)
                }
            }
        )?
    };
}
