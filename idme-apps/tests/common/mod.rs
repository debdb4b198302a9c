//! What the app-client tests over the in-memory `Pair` share: a pair at a given redirect
//! URI, and (in `apps`) the app clients' calls.
// Not every test file uses every helper.
#![allow(dead_code)]

use idme_core::{EngineBuilder, IdmeBuilder};
use idme_testkit::EmulatorConfig;
use idme_testkit::Persona;
use idme_testkit::pair::Pair;

/// A pair whose app is at `redirect`, the emulator signing in `persona` automatically.
pub(crate) async fn rig_at(
    redirect: &str,
    persona: Option<Persona>,
    configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
) -> Pair {
    rig_at_with(redirect, persona, configure, |e| e).await
}

/// [`rig_at`], the engine built by `engine` too (to register extensions).
pub(crate) async fn rig_at_with(
    redirect: &str,
    persona: Option<Persona>,
    configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
    engine: impl FnOnce(EngineBuilder) -> EngineBuilder,
) -> Pair {
    let config = EmulatorConfig {
        auto_user: persona,
        ..EmulatorConfig::default()
    };
    Pair::at_with_engine(redirect, config, configure, engine)
        .await
        .unwrap()
}

pub(crate) mod apps;
