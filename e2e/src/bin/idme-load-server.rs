//! The server the load benchmark drives (`bench/load.sh`): an axum app whose `/public` and
//! `/protected` routes return the same JSON body, the second behind the `IdmeUser`
//! extractor, so the ratio of their throughput is the cost of authentication per request.
//! It signs the veteran persona in through an in-process emulator first and prints
//! `READY <base url> <Cookie header>` on stdout.
#![forbid(unsafe_code)]

use axum::routing::get;
use axum::{Json, Router};
use idme_axum::{IdmeLayer, IdmeUser};
use idme_core::{Environment, Idme, IdmeBuilder};
use idme_testkit::browser::Browser;
use idme_testkit::{Emulator, EmulatorConfig, Persona};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let redirect = format!("{base}/auth/callback");
    let emulator = Emulator::start(EmulatorConfig {
        redirect_uris: vec![redirect.clone()],
        auto_user: Some(Persona::Veteran),
        ..EmulatorConfig::default()
    })
    .await?;
    let idme = Idme::new(
        IdmeBuilder::new()
            .environment(Environment::Custom(emulator.issuer()))
            .client_id(emulator.client_id())
            .client_secret(emulator.client_secret())
            .redirect_uri(redirect)
            .build()?,
    );
    // Sign in once (before serving the benchmark routes) to learn the user's JSON body.
    let app = Router::new()
        .route(
            "/protected",
            get(|user: IdmeUser| async move { Json(user.to_json()) }),
        )
        .merge(idme_axum::routes(&idme))
        .layer(IdmeLayer::new(idme.clone()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let browser = Browser::new();
    let start = browser
        .get(&format!("{base}/auth/login?return_to=/protected"))
        .await;
    let page = browser.navigate(start, None).await;
    if page.status != 200 {
        return Err(format!("sign-in failed: {} {}", page.status, page.body).into());
    }
    let name = idme.config().session_cookie_name();
    let cookie = format!(
        "{name}={}",
        browser
            .cookie(name)
            .ok_or("no session cookie after sign-in")?
    );
    server.abort();

    // The measured app. `/public` renders a user opened once at startup, without any idme
    // code on its path (no layer, no extractor); `/protected` opens the session cookie of
    // every request with the `IdmeUser` extractor. Same body, same rendering.
    let opened = idme
        .authenticate(&idme_core::RequestCookies::from_header_values([
            cookie.as_str()
        ]))
        .await
        .map_err(|d| format!("the session does not open: {}", d.error))?
        .user;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let public = Router::new().route(
        "/public",
        get(move || {
            let user = opened.clone();
            async move { Json(user.to_json()) }
        }),
    );
    let protected = Router::new()
        .route(
            "/protected",
            get(|user: IdmeUser| async move { Json(user.to_json()) }),
        )
        .layer(IdmeLayer::new(idme));
    let app = public.merge(protected);
    println!("READY {base} {cookie}");
    axum::serve(listener, app).await?;
    drop(emulator);
    Ok(())
}
