//! Why a guard failed ([`Rejection`], [`RejectionReason`]) and the default answer to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;
use crate::reply::Reply;
use crate::verification::Requirement;

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
    /// The user signed in longer ago than the route allows (`Fresh<N>`,
    /// [`RequestAuth::fresh`](super::RequestAuth::fresh)). `401`; the default answer is a
    /// `303` to `login_url` for browsers, `401` JSON with RFC 9470's
    /// `insufficient_user_authentication` for API and bearer clients.
    StaleSignIn {
        /// The most seconds since the sign-in ([`IdmeUser::auth_time`](crate::IdmeUser::auth_time)) the route accepts.
        max_age: u64,
        /// The login route asking ID.me for such a sign-in (`max_age`, `prompt=login`),
        /// returning to the request.
        login_url: String,
    },
    /// The sign-in was not made at an assurance the route requires (`Assured<A>`,
    /// [`RequestAuth::assured`](super::RequestAuth::assured)): its `acr` is none of
    /// `acr_values`. `401`; answered like [`StaleSignIn`](Self::StaleSignIn), the login and
    /// the challenge asking for `acr_values`.
    InsufficientAssurance {
        /// The accepted `acr` values, space-separated, the preferred first.
        acr_values: String,
        /// The login route asking ID.me for them (`acr_values`, `prompt=login`), returning
        /// to the request.
        login_url: String,
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
    /// A request that would act with the session cookie and an unsafe method did not come
    /// from the application's own pages (see [`cross_site`](crate::cross_site)). `403`.
    CrossSite,
    /// Any other failure of the engine (e.g. an extension's); the status is
    /// [`Error::status`].
    Failed(Error),
}

impl RejectionReason {
    /// The reason of an authentication failure (`bearer`: of a bearer token).
    pub(super) fn of(error: Error, bearer: bool) -> Self {
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
            Self::NotVerified { .. } | Self::InsufficientScope { .. } | Self::CrossSite => 403,
            Self::MissingSetup { .. } => 500,
            Self::StaleSignIn { .. } | Self::InsufficientAssurance { .. } => 401,
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
            | Self::MissingSetup { .. }
            | Self::StaleSignIn { .. }
            | Self::InsufficientAssurance { .. }
            | Self::CrossSite => None,
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
            Self::CrossSite => write!(f, "cross-site request refused"),
            Self::StaleSignIn { max_age, .. } => {
                write!(f, "a sign-in at most {max_age} s old is required")
            }
            Self::InsufficientAssurance { acr_values, .. } => {
                write!(f, "a sign-in at one of {acr_values} is required")
            }
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

    /// Whether the request was refused as cross-site (which no `Option` guard may turn into
    /// "anonymous" either: the handler would run for a forged request).
    pub fn is_cross_site(&self) -> bool {
        matches!(self.reason.reason, RejectionReason::CrossSite)
    }

    /// Whether the application read the reason.
    pub(super) fn was_read(&self) -> bool {
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

/// The `403` answered to a cross-site request: a page for a browser's navigation (a form
/// posted from another site), JSON otherwise.
pub(super) fn cross_site(html: bool) -> Reply {
    const MESSAGE: &str =
        "This request did not come from this site's own pages, so it was refused.";
    if html {
        return Reply::html(403, format!("<p>{MESSAGE}</p>"));
    }
    Reply::json(
        403,
        &serde_json::json!({ "error": "cross_site_request", "message": MESSAGE }),
    )
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
