//! The `IdmeUser`, `Verified<R>`, `Fresh<N>` and `Assured<A>` request guards.

use idme_core::Idme;
use idme_core::adapter::{GuardRequest, Rejection, RequestAuth};
use idme_core::cross_site::Provenance;
use idme_core::require::{Assurance, Verify};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder};

use crate::{IdmeResponse, cookies};

idme_core::adapter_types! {
    /// The signed-in user. As a request guard it opens the session and refreshes tokens
    /// about to expire, once per request; [`IdmeFairing`](crate::IdmeFairing) sets the
    /// cookies that produces. Without a session it fails with `401` (`503` when the
    /// session store is down), and the fairing's catcher answers as the engine decides.
    ///
    /// `Option<IdmeUser>` is `None` when nobody is signed in; an outage the blanket
    /// `Option<T>` guard swallows is still answered by the fairing (`503`). Without the
    /// fairing nothing of idme-rs runs on the response: Rocket's own `500` answers, and
    /// `Option<IdmeUser>` is `None` (logged at ERROR under `idme::rejection`).
    ///
    /// With an extension that issues bearer tokens registered (`idme-apps`' `AppServer`),
    /// an `Authorization: Bearer` token it recognizes authenticates the request instead of
    /// the cookie (any other `Authorization` value is ignored and the cookie decides); a
    /// bad, expired or revoked one is `401` with
    /// `WWW-Authenticate: Bearer error="invalid_token"`, also behind `Option<IdmeUser>`
    /// (the fairing answers it).
    pub struct IdmeUser;
    ///
    /// A failure goes to the catcher [`IdmeFairing`](crate::IdmeFairing) registers.
    pub struct Verified;
    ///
    /// The error of the [`IdmeUser`] and [`Verified`] guards. Rocket sends a failed guard
    /// to the catcher of its [`status`](Self::status) (the fairing's answers with
    /// [`into_reply`](Self::into_reply)); a handler taking
    /// `Result<IdmeUser, IdmeRejection>` gets it directly, and an app's own catcher finds
    /// it with [`IdmeRejection::for_failed_guard`].
    pub struct IdmeRejection;
}

impl IdmeRejection {
    /// The rejection of `req`'s [`IdmeUser`] or [`Verified`] guard, if one failed: for an
    /// app's own `401`, `403` or `503` catcher, to match on its
    /// [`reason`](Self::reason) or answer as the engine decided (it is a `Responder`).
    pub fn for_failed_guard(req: &Request<'_>) -> Option<Self> {
        auth(req).rejection().map(Self::from)
    }
}

/// The engine's default answer ([`IdmeRejection::into_reply`]).
impl<'r> Responder<'r, 'static> for IdmeRejection {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        IdmeResponse(self.into_reply()).respond_to(req)
    }
}

/// The setup call named by the `500` a request without the engine gets.
const SETUP: &str = ".attach(IdmeFairing::new(idme))";

/// The request's sign-in state, kept in its local cache.
pub(crate) fn auth<'r>(req: &'r Request<'_>) -> &'r RequestAuth {
    req.local_cache(RequestAuth::new)
}

/// The request as the guards see it; `path` is its URI.
fn guarded<'a>(req: &'a Request<'_>, path: &'a str) -> GuardRequest<'a> {
    GuardRequest {
        idme: req.rocket().state::<Idme>(),
        setup: SETUP,
        accept: req.headers().get_one("Accept"),
        path_and_query: path,
        authorization: req.headers().get_one("Authorization"),
        method: req.method().as_str(),
        provenance: Provenance {
            origin: req.headers().get_one("Origin"),
            sec_fetch_site: req.headers().get_one("Sec-Fetch-Site"),
        },
        sec_fetch_mode: req.headers().get_one("Sec-Fetch-Mode"),
    }
}

/// A guard's result as a Rocket outcome: a failure goes to the catcher of its status.
fn outcome<T>(result: Result<T, Rejection>) -> Outcome<T, IdmeRejection> {
    result.map_or_else(
        |r| Outcome::Error((Status::new(r.status), IdmeRejection::from(r))),
        Outcome::Success,
    )
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IdmeUser {
    type Error = IdmeRejection;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let path = req.uri().to_string();
        let guarded = guarded(req, &path);
        let user = auth(req).user(&guarded, || cookies(req));
        outcome(user.await.map(IdmeUser))
    }
}

#[rocket::async_trait]
impl<'r, R: Verify> FromRequest<'r> for Verified<R> {
    type Error = IdmeRejection;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let (path, requirement) = (req.uri().to_string(), R::requirement());
        let guarded = guarded(req, &path);
        let user = auth(req).verified(&guarded, || cookies(req), &requirement);
        outcome(user.await.map(Verified::from))
    }
}

#[rocket::async_trait]
impl<'r, const MAX_AGE: u64> FromRequest<'r> for Fresh<MAX_AGE> {
    type Error = IdmeRejection;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let path = req.uri().to_string();
        let guarded = guarded(req, &path);
        let user = auth(req).fresh(&guarded, || cookies(req), MAX_AGE);
        outcome(user.await.map(Fresh::from))
    }
}

#[rocket::async_trait]
impl<'r, A: Assurance> FromRequest<'r> for Assured<A> {
    type Error = IdmeRejection;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let path = req.uri().to_string();
        let guarded = guarded(req, &path);
        let user = auth(req).assured(&guarded, || cookies(req), A::ACR_VALUES);
        outcome(user.await.map(Assured::from))
    }
}

/// A guard for a route that acts with the session cookie without asking for the user
/// (with [`IdmeUser`] or [`Verified`], which apply the same rule themselves): a request
/// with an unsafe method (`POST`, `PUT`, `PATCH`, `DELETE`, …) is refused with `403`
/// unless it comes from the application's own pages (`Origin`, or `Sec-Fetch-Site:
/// same-origin`) or a trusted origin; see [`idme_core::cross_site`]. Safe methods pass,
/// and so do requests with an app client's bearer token (no ambient authority).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SameOrigin;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SameOrigin {
    type Error = IdmeRejection;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let path = req.uri().to_string();
        let guarded = guarded(req, &path);
        outcome(auth(req).same_origin(&guarded).map(|()| SameOrigin))
    }
}
