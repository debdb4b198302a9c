//! The login, callback and logout routes.

use idme_core::adapter::{Route as SignIn, RouteRequest};
use idme_core::{Idme, Reply};
use rocket::Request;
use rocket::data::{Data, Limits};
use rocket::http::Method;
use rocket::route::{Handler, Outcome, Route};

use crate::{IdmeResponse, cookies};

/// The sign-in routes at the paths of the engine's configuration (`/auth/login`, the
/// redirect URI's path, `/auth/logout`, `/auth/backchannel-logout` by default) and the
/// routes of its [extensions](idme_core::extension), as
/// [`Route::all`](idme_core::adapter::Route::all) lists them, to mount at `/`. [`IdmeFairing`](crate::IdmeFairing) mounts them for you.
///
/// # Panics
/// When a configured path is not a valid Rocket route URI.
pub fn routes(idme: &Idme) -> Vec<Route> {
    let at = |method, step: SignIn| {
        let endpoint = Endpoint {
            idme: idme.clone(),
            step,
        };
        Route::new(method, step.path(idme), endpoint)
    };
    let all = SignIn::all(idme);
    let gets = all.iter().copied().filter(|s| s.answers_get());
    let posts = all.iter().copied().filter(|s| s.answers_post());
    gets.map(|s| at(Method::Get, s))
        .chain(posts.map(|s| at(Method::Post, s)))
        .collect()
}

#[derive(Debug, Clone)]
struct Endpoint {
    idme: Idme,
    step: SignIn,
}

#[rocket::async_trait]
impl Handler for Endpoint {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let post = req.method() == Method::Post;
        let body = match post {
            true => form_body(req, data).await,
            false => Ok(Vec::new()),
        };
        let body = match body {
            Ok(body) => body,
            Err(reply) => return Outcome::from(req, reply),
        };
        let input = RouteRequest {
            post,
            query: req.uri().query().map(|q| q.as_str()),
            header: &|name| req.headers().get_one(name),
            cookies: cookies(req),
            body: &body,
            // Rocket's `client_ip`: its configured `ip_header` (X-Real-IP by default), else
            // the connection's peer.
            remote_addr: req.client_ip(),
        };
        Outcome::from(req, IdmeResponse(self.step.answer(&self.idme, input).await))
    }
}

/// A form body (a form_post callback or a logout token: a few KB), capped by Rocket's
/// `form` limit (32 KiB).
async fn form_body(req: &Request<'_>, data: Data<'_>) -> Result<Vec<u8>, IdmeResponse> {
    let limit = req.limits().get("form").unwrap_or(Limits::FORM);
    match data.open(limit).into_bytes().await {
        Ok(body) if body.is_complete() => Ok(body.into_inner()),
        _ => Err(IdmeResponse(Reply::html(
            413,
            "Request body too large.".into(),
        ))),
    }
}
