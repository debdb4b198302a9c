//! The login, callback and logout routes.

use idme_core::{CallbackInput, CallbackMethod, Idme, Reply};
use rocket::Request;
use rocket::data::{Data, Limits};
use rocket::http::Method;
use rocket::route::{Handler, Outcome, Route};

use crate::{IdmeResponse, cookies};

/// The sign-in routes at the paths of the engine's configuration (`/auth/login`, the
/// redirect URI's path, `/auth/logout`, `/auth/backchannel-logout` by default), to mount
/// at `/`. [`IdmeFairing`](crate::IdmeFairing)
/// mounts them for you.
///
/// # Panics
/// When a configured path is not a valid Rocket route URI.
pub fn routes(idme: &Idme) -> Vec<Route> {
    let paths = idme.config().paths();
    let at = |step| Endpoint {
        idme: idme.clone(),
        step,
    };
    vec![
        Route::new(Method::Get, &paths.login, at(Step::Login)),
        Route::new(Method::Get, &paths.callback, at(Step::Callback)),
        Route::new(Method::Post, &paths.callback, at(Step::Callback)),
        Route::new(Method::Post, &paths.logout, at(Step::Logout)),
        Route::new(
            Method::Post,
            &paths.backchannel_logout,
            at(Step::BackchannelLogout),
        ),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Login,
    Callback,
    Logout,
    BackchannelLogout,
}

#[derive(Debug, Clone)]
struct Endpoint {
    idme: Idme,
    step: Step,
}

#[rocket::async_trait]
impl Handler for Endpoint {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let query = req.uri().query().map(|q| q.as_str());
        let reply = match self.step {
            Step::Login => self.idme.login(query).await,
            Step::Callback => {
                let post = req.method() == Method::Post;
                let body = if post {
                    match form_body(req, data).await {
                        Ok(body) => body,
                        Err(reply) => return Outcome::from(req, reply),
                    }
                } else {
                    Vec::new()
                };
                let input = CallbackInput {
                    method: if post {
                        CallbackMethod::Post
                    } else {
                        CallbackMethod::Get
                    },
                    query,
                    body: &body,
                    content_type: req.headers().get_one("Content-Type"),
                };
                self.idme.callback(input, &cookies(req)).await
            }
            Step::Logout => {
                let origin = req.headers().get_one("Origin");
                let site = req.headers().get_one("Sec-Fetch-Site");
                self.idme.logout(&cookies(req), origin, site).await
            }
            Step::BackchannelLogout => match form_body(req, data).await {
                Ok(body) => {
                    let content_type = req.headers().get_one("Content-Type");
                    self.idme.backchannel_logout(content_type, &body).await
                }
                Err(reply) => return Outcome::from(req, reply),
            },
        };
        Outcome::from(req, IdmeResponse(reply))
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
