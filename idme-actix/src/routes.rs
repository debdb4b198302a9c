//! The login, callback and logout routes.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use idme_core::Idme;
use idme_core::adapter::{Route, RouteRequest};

use crate::{IdmeRejection, cookies, into_response, registered};

/// Registers `idme` as app data (a `web::Data<Idme>`, so handlers can take it) and mounts
/// the sign-in routes at the paths of its configuration (`/auth/login`, the redirect URI's
/// path, `/auth/logout`, `/auth/backchannel-logout` by default) and the routes of its
/// [extensions](idme_core::extension), as [`Route::all`](idme_core::adapter::Route::all)
/// lists them. Use it on the `App`
/// itself, wrapped in [`IdmeMiddleware`](crate::IdmeMiddleware):
/// `App::new().wrap(idme_actix::IdmeMiddleware).configure(idme_actix::configure(&idme))`.
pub fn configure(idme: &Idme) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let idme = idme.clone();
    move |cfg| {
        for route in Route::all(&idme) {
            let handler = move |req, body| answer(route, req, body);
            let mut resource = web::resource(route.path(&idme));
            if route.answers_get() {
                resource = resource.route(web::get().to(handler));
            }
            if route.answers_post() {
                resource = resource.route(web::post().to(handler));
            }
            cfg.service(resource);
        }
        cfg.app_data(web::Data::new(idme));
    }
}

async fn answer(
    route: Route,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, IdmeRejection> {
    let headers = req.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let input = RouteRequest {
        post: req.method() == Method::POST,
        query: Some(req.query_string()).filter(|q| !q.is_empty()),
        header: &header,
        cookies: cookies(&req),
        body: &body,
        remote_addr: req.peer_addr().map(|a| a.ip()),
    };
    Ok(into_response(route.answer(registered(&req)?, input).await))
}
