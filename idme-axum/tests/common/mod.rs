//! A real axum server wired to a real emulator over loopback, and a test browser.
#![allow(dead_code, unreachable_pub)]

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use idme_axum::{IdmeLayer, IdmeUser, RequireUserLayer};
use idme_core::{Environment, Idme, IdmeBuilder};
use idme_testkit::browser::{Browser, Page};
use idme_testkit::{Emulator, EmulatorConfig, Persona};

/// An app on a loopback port signing in against an emulator.
pub struct Rig {
    pub emulator: Emulator,
    pub idme: Idme,
    /// `http://127.0.0.1:PORT`
    pub app: String,
}

impl Rig {
    /// A rig with the emulator signing in `veteran` automatically and the default config.
    pub async fn new() -> Rig {
        Self::with(|b| b).await
    }

    /// A rig whose engine config is adjusted by `configure`.
    pub async fn with(configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder) -> Rig {
        Self::with_emulator(EmulatorConfig::default(), configure).await
    }

    pub async fn with_emulator(
        emulator_config: EmulatorConfig,
        configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
    ) -> Rig {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app = format!("http://{}", listener.local_addr().unwrap());
        let redirect = format!("{app}/auth/callback");
        let emulator = Emulator::start(EmulatorConfig {
            redirect_uris: vec![redirect.clone()],
            auto_user: emulator_config.auto_user.or(Some(Persona::Veteran)),
            ..emulator_config
        })
        .await
        .unwrap();
        let builder = IdmeBuilder::new()
            .environment(Environment::Custom(emulator.issuer()))
            .client_id(emulator.client_id())
            .client_secret(emulator.client_secret())
            .redirect_uri(redirect);
        let idme = Idme::new(configure(builder).build().unwrap());
        let router = app_router(idme.clone());
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Rig {
            emulator,
            idme,
            app,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app)
    }

    /// Starts a login and lets the browser go all the way (emulator, callback, return_to).
    pub async fn sign_in(&self, browser: &Browser, return_to: &str) -> Page {
        let start = browser
            .get(&self.url(&format!("/auth/login?return_to={return_to}")))
            .await;
        browser.navigate(start, None).await
    }

    /// Starts a login and stops at the first request to the callback (not yet sent):
    /// returns the callback request as the provider shaped it (URL with query or fragment,
    /// or the fields of a form_post page).
    pub async fn until_callback(&self, browser: &Browser) -> Page {
        let start = browser.get(&self.url("/auth/login")).await;
        assert_eq!(start.status, 303, "login redirects: {}", start.body);
        let authorize = start.location().unwrap();
        browser.get(authorize.as_str()).await
    }
}

/// The app the tests sign in to: a public page, `/me`, and a protected router.
pub fn app_router(idme: Idme) -> Router {
    let protected = Router::new()
        .route("/account", get(|| async { "account page" }))
        .route_layer(RequireUserLayer::new());
    Router::new()
        .route(
            "/",
            get(|user: Option<IdmeUser>| async move {
                Html(match user {
                    Some(u) => format!("hello {}", u.sub()),
                    None => "hello stranger".to_owned(),
                })
            }),
        )
        .route(
            "/me",
            get(|user: IdmeUser| async move { Json(user.to_json()) }),
        )
        .merge(protected)
        .merge(idme_axum::routes(&idme))
        .layer(IdmeLayer::new(idme))
}

/// The session cookie name on plain-http loopback.
pub const SESSION: &str = "idme_session";
