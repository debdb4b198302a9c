//! The login, callback and logout routes.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use idme_core::{CallbackInput, CallbackMethod, Idme};

use crate::{IdmeRejection, cookies, into_response, registered};

/// Registers `idme` as app data (a `web::Data<Idme>`, so handlers can take it) and mounts the sign-in routes at the paths of its
/// configuration (`/auth/login`, the redirect URI's path, `/auth/logout` by default).
/// Use it on the `App` itself, wrapped in [`IdmeMiddleware`](crate::IdmeMiddleware):
/// `App::new().wrap(idme_actix::IdmeMiddleware).configure(idme_actix::configure(&idme))`.
pub fn configure(idme: &Idme) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let idme = idme.clone();
    move |cfg| {
        let paths = idme.config().paths().clone();
        cfg.app_data(web::Data::new(idme))
            .service(web::resource(paths.login).route(web::get().to(login)))
            .service(
                web::resource(paths.callback)
                    .route(web::get().to(callback))
                    .route(web::post().to(callback)),
            )
            .service(web::resource(paths.logout).route(web::post().to(logout)))
            .service(
                web::resource(paths.backchannel_logout).route(web::post().to(backchannel_logout)),
            );
    }
}

async fn login(req: HttpRequest) -> Result<HttpResponse, IdmeRejection> {
    let query = Some(req.query_string()).filter(|q| !q.is_empty());
    Ok(into_response(registered(&req)?.login(query).await))
}

async fn callback(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, IdmeRejection> {
    let input = CallbackInput {
        method: if req.method() == Method::POST {
            CallbackMethod::Post
        } else {
            CallbackMethod::Get
        },
        query: Some(req.query_string()).filter(|q| !q.is_empty()),
        body: &body,
        content_type: req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    };
    Ok(into_response(
        registered(&req)?.callback(input, &cookies(&req)).await,
    ))
}

async fn logout(req: HttpRequest) -> Result<HttpResponse, IdmeRejection> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    let site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    Ok(into_response(
        registered(&req)?.logout(&cookies(&req), origin, site).await,
    ))
}

async fn backchannel_logout(
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, IdmeRejection> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    Ok(into_response(
        registered(&req)?
            .backchannel_logout(content_type, &body)
            .await,
    ))
}
