//! The `IdmeUser` and `Verified<R>` request guards.

use idme_core::Idme;
use idme_core::adapter::{GuardRequest, Rejection, RequestAuth};
use idme_core::require::Verify;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::{IdmeResponse, cookies};

idme_core::adapter_types! {
    /// The signed-in user. As a request guard it opens the session (the cookie; the store
    /// if one is configured) and refreshes tokens about to expire, once per request;
    /// cookies that produces are set on the response by [`IdmeFairing`](crate::IdmeFairing).
    /// Without a session it fails with `401` (`503` when the session store is down), and
    /// the fairing's catcher answers as the engine decides: browsers are redirected to sign
    /// in, API clients get `401` JSON.
    ///
    /// `Option<IdmeUser>` gives `None` when nobody is signed in. Rocket's blanket
    /// `Option<T>` guard turns every failure into `None`, so an outage (the session store
    /// down) is answered by the fairing instead of the handler's response: `503`, never a
    /// silent anonymous user. Without [`IdmeFairing`](crate::IdmeFairing) nothing of
    /// idme-rs runs on the response: `IdmeUser` fails with Rocket's own `500` and
    /// `Option<IdmeUser>` is `None` (both logged at ERROR under `idme::rejection`).
    pub struct IdmeUser;
    /// A signed-in user who meets the verification requirement `R` (e.g.
    /// `Verified<idme_core::require::Veteran>`). Without a session it fails like
    /// [`IdmeUser`]; a user who lacks the verification fails with `403`, which the
    /// fairing's catcher answers with the engine's offer to verify with ID.me (an HTML page
    /// for browsers, JSON for API clients).
    pub struct Verified;
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
    }
}

/// A guard's result as a Rocket outcome: a failure goes to the catcher of its status.
fn outcome<T>(result: Result<T, Rejection>) -> Outcome<T, IdmeResponse> {
    match result {
        Ok(value) => Outcome::Success(value),
        Err(rejection) => {
            let status = Status::new(rejection.status);
            Outcome::Error((status, IdmeResponse(rejection.reply)))
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IdmeUser {
    type Error = IdmeResponse;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let path = req.uri().to_string();
        let guarded = guarded(req, &path);
        outcome(
            auth(req)
                .user(&guarded, || cookies(req))
                .await
                .map(IdmeUser),
        )
    }
}

#[rocket::async_trait]
impl<'r, R: Verify> FromRequest<'r> for Verified<R> {
    type Error = IdmeResponse;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let (path, requirement) = (req.uri().to_string(), R::requirement());
        let guarded = guarded(req, &path);
        let user = auth(req).verified(&guarded, || cookies(req), &requirement);
        outcome(user.await.map(Verified::from))
    }
}
