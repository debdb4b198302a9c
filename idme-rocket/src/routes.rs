//! The login, callback and logout routes.

use idme_core::{CallbackInput, CallbackMethod, Idme, Reply};
use rocket::Request;
use rocket::data::{Data, Limits};
use rocket::http::Method;
use rocket::route::{Handler, Outcome, Route};

use crate::{IdmeResponse, cookies};

/// The sign-in routes at the paths of the engine's configuration (`/auth/login`, the
/// redirect URI's path, `/auth/logout` by default), to mount at `/`. [`IdmeFairing`](crate::IdmeFairing)
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
    ]
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Login,
    Callback,
    Logout,
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
                    // A form_post body is a few KB; Rocket's `form` limit (32 KiB) caps it.
                    let limit = req.limits().get("form").unwrap_or(Limits::FORM);
                    match data.open(limit).into_bytes().await {
                        Ok(body) if body.is_complete() => body.into_inner(),
                        _ => {
                            let reply = Reply::html(413, "Request body too large.".into());
                            return Outcome::from(req, IdmeResponse(reply));
                        }
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
                self.idme.logout(&cookies(req), origin).await
            }
        };
        Outcome::from(req, IdmeResponse(reply))
    }
}
