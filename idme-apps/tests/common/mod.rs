//! What the app-client tests over the in-memory `Pair` share: a pair at a given redirect
//! URI, and a login or a whole sign-in with options.
// Not every test file uses every helper.
#![allow(dead_code)]

use idme_core::{IdmeBuilder, LoginOptions, Reply};
use idme_testkit::EmulatorConfig;
use idme_testkit::Persona;
use idme_testkit::pair::Pair;

/// A pair whose app is at `redirect`, the emulator signing in `persona` automatically.
pub(crate) async fn rig_at(
    redirect: &str,
    persona: Option<Persona>,
    configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
) -> Pair {
    let config = EmulatorConfig {
        auto_user: persona,
        ..EmulatorConfig::default()
    };
    Pair::at(redirect, config, configure).await.unwrap()
}

/// Starts a login: the engine's reply (a redirect to the provider, pending cookie set).
pub(crate) async fn login(rig: &Pair, options: &LoginOptions) -> Reply {
    let reply = rig.login_with(options).await;
    assert_eq!(reply.status, 303, "login redirects: {}", reply.body);
    reply
}

/// A whole sign-in with `options`: the callback's reply.
pub(crate) async fn sign_in(rig: &Pair, options: &LoginOptions) -> Reply {
    let login = login(rig, options).await;
    let answer = rig.answer(&login).await;
    rig.finish(&login, &answer).await
}

pub(crate) mod apps;
