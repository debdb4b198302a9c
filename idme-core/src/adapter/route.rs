//! The sign-in routes an adapter mounts, and one request to them as it reads it.

use crate::engine::Idme;
use crate::flow::{CallbackInput, CallbackMethod};
use crate::reply::Reply;
use crate::request::RouteRequest;

/// A route an adapter mounts: a sign-in route at the path of the engine's
/// [`RoutePaths`](crate::config::RoutePaths), or one of an
/// [`Extension`](crate::extension::Extension)'s.
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
    /// `GET`: the browser's session as JSON, for a single-page app ([`Idme::session_info`]).
    Session,
    /// `POST`: the provider's Security Event Tokens ([`Idme::receive_security_event`]);
    /// listed by [`all`](Self::all) only when security events are configured.
    SecurityEvents,
    /// A route of a registered extension.
    Extension(ExtensionRouteId),
}

/// Which extension route a [`Route::Extension`] is (opaque).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionRouteId {
    /// Index into the engine's table of extension routes.
    index: usize,
    get: bool,
    post: bool,
}

impl Route {
    /// The sign-in routes, without any extension's (see [`all`](Self::all)).
    pub const SIGN_IN: [Route; 5] = [
        Route::Login,
        Route::Callback,
        Route::Logout,
        Route::BackchannelLogout,
        Route::Session,
    ];

    /// Every route `idme` answers: the [sign-in routes](Self::SIGN_IN), the
    /// [security-event receiver](Self::SecurityEvents) when it is configured, then the
    /// routes of its extensions. Adapters mount these.
    pub fn all(idme: &Idme) -> Vec<Route> {
        let extension_routes = idme.inner.extension_routes.iter().enumerate();
        let events = idme
            .config()
            .security_events()
            .map(|_| Route::SecurityEvents);
        Self::SIGN_IN
            .into_iter()
            .chain(events)
            .chain(extension_routes.map(|(index, (_, _, route))| {
                Route::Extension(ExtensionRouteId {
                    index,
                    get: route.get,
                    post: route.post,
                })
            }))
            .collect()
    }

    /// Whether the route answers `GET`.
    pub fn answers_get(self) -> bool {
        match self {
            Route::Login | Route::Callback | Route::Session => true,
            Route::Logout | Route::BackchannelLogout | Route::SecurityEvents => false,
            Route::Extension(id) => id.get,
        }
    }

    /// Whether the route answers `POST`.
    pub fn answers_post(self) -> bool {
        match self {
            Route::Login | Route::Session => false,
            Route::Callback | Route::Logout | Route::BackchannelLogout | Route::SecurityEvents => {
                true
            }
            Route::Extension(id) => id.post,
        }
    }

    /// The route's path in `idme`'s configuration.
    pub fn path(self, idme: &Idme) -> &str {
        let paths = idme.config().paths();
        match self {
            Route::Login => &paths.login,
            Route::Callback => &paths.callback,
            Route::Logout => &paths.logout,
            Route::BackchannelLogout => &paths.backchannel_logout,
            Route::Session => &paths.session,
            Route::SecurityEvents => &paths.security_events,
            Route::Extension(id) => idme
                .inner
                .extension_routes
                .get(id.index)
                .map_or("/", |(_, _, route)| route.path.as_str()),
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
                let everywhere = url::form_urlencoded::parse(req.body)
                    .any(|(k, v)| k == "everywhere" && v == "true");
                // A script's `fetch` cannot follow a redirect to the provider: JSON.
                let script = header("sec-fetch-mode")
                    .is_some_and(|mode| !mode.trim().eq_ignore_ascii_case("navigate"));
                match (script, everywhere) {
                    (true, _) => {
                        let cookies = &req.cookies;
                        idme.logout_from_script(cookies, origin, site, everywhere)
                            .await
                    }
                    (false, true) => idme.logout_everywhere(&req.cookies, origin, site).await,
                    (false, false) => idme.logout(&req.cookies, origin, site).await,
                }
            }
            Route::BackchannelLogout => {
                idme.backchannel_logout(header("content-type"), req.body)
                    .await
            }
            Route::Session => idme.session_info(&req.cookies).await,
            Route::SecurityEvents => {
                idme.receive_security_event(header("content-type"), req.body)
                    .await
            }
            Route::Extension(id) => match idme.inner.extension_routes.get(id.index) {
                Some(&(extension, route, _)) => {
                    let extension = &idme.inner.extensions[extension];
                    extension.answer(idme, route, req).await
                }
                None => {
                    let misuse =
                        crate::error::Error::from(crate::error::Misuse::RouteOfAnotherEngine);
                    tracing::error!(target: "idme::adapter", error = %misuse, "a route of another engine");
                    crate::pages::failure(idme.config(), &misuse, "the request failed")
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookies::RequestCookies;
    use crate::extension::{Extension, ExtensionRoute};

    /// An extension with one `GET` route.
    #[derive(Debug)]
    struct OneRoute;

    impl Extension for OneRoute {
        fn routes(&self) -> Vec<ExtensionRoute> {
            vec![ExtensionRoute {
                path: "/ext".into(),
                get: true,
                post: false,
            }]
        }
    }

    fn engine(extension: bool) -> Idme {
        let config = crate::IdmeBuilder::new()
            .client_id("client")
            .client_secret("secret")
            .redirect_uri("https://app.example/auth/callback")
            .cookie_keys(crate::CookieKeys::random())
            .build()
            .expect("a valid configuration");
        let mut engine = Idme::builder(config);
        if extension {
            engine = engine.extension(OneRoute);
        }
        engine.build().expect("a valid engine")
    }

    #[tokio::test]
    async fn a_route_of_another_engine_is_a_misuse_answered_500() {
        let (with, without) = (engine(true), engine(false));
        let route = *Route::all(&with).last().unwrap();
        assert!(matches!(route, Route::Extension(_)));
        let header = |_: &str| None;
        let req = || RouteRequest {
            post: false,
            query: None,
            header: &header,
            cookies: RequestCookies::default(),
            body: b"",
            remote_addr: None,
        };
        assert_eq!(
            route.answer(&with, req()).await.status,
            404,
            "the extension's default"
        );
        let reply = route.answer(&without, req()).await;
        assert_eq!(reply.status, 500, "{}", reply.body);
    }
}
