//! The sign-in routes an adapter mounts, and one request to them as it reads it.

use crate::cookies::RequestCookies;
use crate::engine::Idme;
use crate::flow::{CallbackInput, CallbackMethod};
use crate::reply::Reply;

/// A sign-in route an adapter mounts, at the path of the engine's
/// [`RoutePaths`](crate::config::RoutePaths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET`: starts a login ([`Idme::login`]).
    Login,
    /// `GET` and `POST`: finishes a login ([`Idme::callback`]).
    Callback,
    /// `POST`: ends the session ([`Idme::logout`]).
    Logout,
    /// `POST`: the provider ends sessions ([`Idme::backchannel_logout`]).
    BackchannelLogout,
    /// App clients, `POST`: a device asks for a device code and a user code (RFC 8628).
    DeviceCode,
    /// App clients, `GET` and `POST`: the person types a device's code, then allows or
    /// denies it.
    DevicePage,
    /// App clients, `POST`: a device polls for its tokens (the token endpoint).
    DeviceToken,
    /// App clients, `GET` and `POST`: a native app's sign-in (RFC 8252): the consent page,
    /// then the person's decision, answered with a code.
    Authorize,
    /// App clients, `POST`: the token endpoint (device code, authorization code,
    /// refresh token).
    Token,
    /// App clients, `POST`: token revocation (RFC 7009).
    Revoke,
}

/// One request to a sign-in [`Route`], as an adapter reads it.
pub struct RouteRequest<'a> {
    /// Whether the method is `POST` (else `GET`).
    pub post: bool,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// The first value of a request header, by its lower-case name.
    pub header: &'a (dyn Fn(&str) -> Option<&'a str> + Sync),
    /// The request's cookies.
    pub cookies: RequestCookies,
    /// The body (a `form_post` callback or a logout token; empty otherwise), bounded by
    /// the adapter.
    pub body: &'a [u8],
    /// The address of the peer the request came from, as the framework knows it (the
    /// connection's, or a forwarding header the framework is configured to trust);
    /// `None` when the framework does not know it. Used for per-address limits and to
    /// show a person where a device asked from.
    pub remote_addr: Option<std::net::IpAddr>,
}

impl std::fmt::Debug for RouteRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteRequest")
            .field("post", &self.post)
            .field("body_len", &self.body.len())
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}

impl Route {
    /// The sign-in routes of an engine without app clients (see [`all`](Self::all)).
    pub const ALL: [Route; 4] = [
        Route::Login,
        Route::Callback,
        Route::Logout,
        Route::BackchannelLogout,
    ];

    /// Every route, the app clients' ones included.
    pub const WITH_APP_CLIENTS: [Route; 10] = [
        Route::Login,
        Route::Callback,
        Route::Logout,
        Route::BackchannelLogout,
        Route::DeviceCode,
        Route::DevicePage,
        Route::DeviceToken,
        Route::Authorize,
        Route::Token,
        Route::Revoke,
    ];

    /// The routes `idme` answers: [`ALL`](Self::ALL), plus the app clients' routes when
    /// they are on. Adapters mount these.
    pub fn all(idme: &Idme) -> &'static [Route] {
        if idme.has_app_clients() {
            &Self::WITH_APP_CLIENTS
        } else {
            &Self::ALL
        }
    }

    /// Whether the route answers `GET`.
    pub fn answers_get(self) -> bool {
        matches!(
            self,
            Route::Login | Route::Callback | Route::DevicePage | Route::Authorize
        )
    }

    /// Whether the route answers `POST`.
    pub fn answers_post(self) -> bool {
        !matches!(self, Route::Login)
    }

    /// The route's path in `idme`'s configuration.
    pub fn path(self, idme: &Idme) -> &str {
        let paths = idme.config().paths();
        match self {
            Route::Login => &paths.login,
            Route::Callback => &paths.callback,
            Route::Logout => &paths.logout,
            Route::BackchannelLogout => &paths.backchannel_logout,
            Route::DeviceCode => &paths.device_code,
            Route::DevicePage => &paths.device,
            Route::DeviceToken => &paths.device_token,
            Route::Authorize => &paths.authorize,
            Route::Token => &paths.token,
            Route::Revoke => &paths.revoke,
        }
    }

    /// The engine's answer to `req` on this route.
    pub async fn answer(self, idme: &Idme, req: RouteRequest<'_>) -> Reply {
        let header = req.header;
        match self {
            Route::Login => idme.login(req.query).await,
            Route::Callback => {
                let input = CallbackInput {
                    method: if req.post {
                        CallbackMethod::Post
                    } else {
                        CallbackMethod::Get
                    },
                    query: req.query,
                    body: req.body,
                    content_type: header("content-type"),
                };
                idme.callback(input, &req.cookies).await
            }
            Route::Logout => {
                let (origin, site) = (header("origin"), header("sec-fetch-site"));
                idme.logout(&req.cookies, origin, site).await
            }
            Route::BackchannelLogout => {
                idme.backchannel_logout(header("content-type"), req.body)
                    .await
            }
            app => app_answer(idme, app, req).await,
        }
    }
}

/// The answer of an app client route (404 when app clients are off).
async fn app_answer(
    idme: &crate::Idme,
    route: Route,
    req: RouteRequest<'_>,
) -> crate::reply::Reply {
    use crate::apps;
    let inner = &*idme.inner;
    let Some(apps) = &inner.apps else {
        return crate::reply::Reply::html(404, "Not found.".into());
    };
    let header = req.header;
    match (route, req.post) {
        (Route::DeviceCode, _) => {
            apps::device::authorization(inner, apps, req.body, req.remote_addr).await
        }
        (Route::DevicePage, false) => {
            apps::device_page::page(inner, apps, req.query, &req.cookies).await
        }
        (Route::DevicePage, true) => {
            let decide = apps::device_page::Decide {
                body: req.body,
                cookies: &req.cookies,
                origin: header("origin"),
                sec_fetch_site: header("sec-fetch-site"),
            };
            apps::device_page::decide(inner, apps, decide).await
        }
        (Route::Authorize, false) => {
            apps::authorize::authorize(inner, apps, req.query, &req.cookies).await
        }
        (Route::Authorize, true) => {
            let decide = apps::authorize::Decide {
                body: req.body,
                cookies: &req.cookies,
                origin: header("origin"),
                sec_fetch_site: header("sec-fetch-site"),
            };
            apps::authorize::decide(inner, apps, decide).await
        }
        (Route::Token | Route::DeviceToken, _) => {
            apps::token_endpoint::token(inner, apps, req.body, header("authorization")).await
        }
        (Route::Revoke, _) => {
            apps::revoke::revoke(inner, apps, req.body, header("authorization")).await
        }
        _ => crate::reply::Reply::html(404, "Not found.".into()),
    }
}
