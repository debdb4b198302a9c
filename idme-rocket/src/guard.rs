//! The `IdmeUser` request guard.

use std::marker::PhantomData;
use std::ops::Deref;

use idme_core::require::Verify;
use idme_core::{Authenticated, Denied, Idme, Reply, SetCookie};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::{IdmeResponse, cookies};

/// The signed-in user. As a request guard it opens the session (the cookie; the store if
/// one is configured) and refreshes tokens about to expire, once per request; cookies that
/// produces are set on the response by [`IdmeFairing`](crate::IdmeFairing). Without a
/// session it fails with `401` (`503` when the session store is down), and the fairing's
/// catcher answers as the engine decides: browsers are redirected to sign in, API clients
/// get `401` JSON.
///
/// `Option<IdmeUser>` gives `None` when nobody is signed in. It relies on Rocket's blanket
/// `Option<T>` guard, which turns every failure into `None`: without [`IdmeFairing`](crate::IdmeFairing)
/// it is `None` too (logged at ERROR under `idme::rejection`), not a 500.
#[derive(Debug, Clone)]
pub struct IdmeUser(pub idme_core::IdmeUser);

impl Deref for IdmeUser {
    type Target = idme_core::IdmeUser;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The engine's answer to a request whose [`IdmeUser`] guard failed, for the catcher.
pub(crate) struct Stashed(pub(crate) Option<IdmeResponse>);

/// The outcome of authenticating one request, computed once however many guards ask,
/// and the cookies it produced, which the fairing's `on_response` sets (also when
/// `Option<IdmeUser>` swallowed a failure: a dead session's deletion still goes out).
#[derive(Default)]
pub(crate) struct Authn(
    Option<Result<idme_core::IdmeUser, Denied>>,
    pub(crate) Vec<SetCookie>,
);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IdmeUser {
    type Error = IdmeResponse;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(idme) = req.rocket().state::<Idme>() else {
            tracing::error!(target: "idme::rejection", "no Idme engine in Rocket's state: is the Idme engine registered (`.attach(IdmeFairing::..)`)?");
            let reply = Reply::html(
                500,
                "Missing managed state: Idme engine. Is the Idme engine registered \
                 (`.attach(IdmeFairing::new(idme))`)?"
                    .into(),
            );
            return Outcome::Error((Status::InternalServerError, IdmeResponse(reply)));
        };
        let authn = req
            .local_cache_async(async {
                match idme.authenticate(&cookies(req)).await {
                    Ok(Authenticated { user, set_cookies }) => Authn(Some(Ok(user)), set_cookies),
                    Err(mut denied) => {
                        let set = std::mem::take(&mut denied.set_cookies);
                        Authn(Some(Err(denied)), set)
                    }
                }
            })
            .await;
        match &authn.0 {
            None => Outcome::Forward(Status::Unauthorized),
            Some(Ok(user)) => Outcome::Success(IdmeUser(user.clone())),
            Some(Err(denied)) => {
                tracing::trace!(target: "idme::rejection", reason = %denied.error, "no signed-in user");
                let accept = req.headers().get_one("Accept");
                let path = req.uri().to_string();
                let status = Status::new(denied.error.status().as_u16());
                let reply = IdmeResponse(idme.unauthenticated(denied.clone(), accept, &path));
                req.local_cache(|| Stashed(Some(reply.clone())));
                Outcome::Error((status, reply))
            }
        }
    }
}

/// A signed-in user who meets the verification requirement `R` (e.g.
/// `Verified<idme_core::require::Veteran>`). Without a session it fails like
/// [`IdmeUser`]; a user who lacks the verification fails with `403`, which the fairing's
/// catcher answers with the engine's offer to verify with ID.me (an HTML page for
/// browsers, JSON for API clients).
pub struct Verified<R> {
    /// The user.
    pub user: IdmeUser,
    _requirement: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for Verified<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Verified").field(&self.user).finish()
    }
}

impl<R> Deref for Verified<R> {
    type Target = idme_core::IdmeUser;
    fn deref(&self) -> &Self::Target {
        &self.user.0
    }
}

#[rocket::async_trait]
impl<'r, R: Verify> FromRequest<'r> for Verified<R> {
    type Error = IdmeResponse;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let user = match IdmeUser::from_request(req).await {
            Outcome::Success(user) => user,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        let Some(idme) = req.rocket().state::<Idme>() else {
            return Outcome::Error((
                Status::InternalServerError,
                IdmeResponse(Reply::html(500, String::new())),
            ));
        };
        let accept = req.headers().get_one("Accept");
        let path = req.uri().to_string();
        match idme.require(&user, &R::requirement(), accept, &path) {
            Ok(()) => Outcome::Success(Verified {
                user,
                _requirement: PhantomData,
            }),
            Err(reply) => {
                let reply = IdmeResponse(reply);
                req.local_cache(|| Stashed(Some(reply.clone())));
                Outcome::Error((Status::Forbidden, reply))
            }
        }
    }
}
