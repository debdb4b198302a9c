//! Test helpers for application code (feature `test-helpers`): a signed-in request for a
//! persona against the application's own engine, so that a handler test is three lines.
//!
//! [`TestIdme`] builds the application's engine with the application's own settings,
//! pointed at an [in-memory](crate::Emulator::in_memory) emulator (it is a
//! [`Pair`] underneath). [`TestIdme::sign_in`] signs a [`Persona`] in
//! through the real flow (login, the emulator's authorization endpoint, the callback, the
//! token, userinfo and attributes calls), all in memory, and gives the `Cookie` header of
//! the browser that did; [`TestIdme::bearer`] gets an app client's bearer token through the
//! real device grant, when `idme-apps`' `AppServer` is registered on the engine. Nothing in
//! the engine changes: there is no way to make a session without the provider.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! use idme_testkit::{Persona, TestIdme};
//! let idme = TestIdme::new(|b| b).await?; // build your app with `idme.engine()`
//! let veteran = idme.sign_in(Persona::Veteran).await?;
//! assert!(veteran.cookie().starts_with("__Host-"));
//! # Ok(()) }
//! ```
//!
//! # Not in release builds
//!
//! The feature builds only with debug assertions on: in a release (or bench) build the
//! crate's build script fails, explaining why. So an `idme-testkit` with `test-helpers`
//! put under `[dependencies]` instead of `[dev-dependencies]` cannot reach a release binary
//! by accident: `cargo build --release` of the application stops. Under
//! `[dev-dependencies]`, as it belongs, a release build of the application does not even
//! compile the crate. `cargo test --release` and `cargo bench` are builds without debug
//! assertions too: for such a command, set `IDME_TESTKIT_ALLOW_RELEASE=1` in its
//! environment, a deliberate step.
//!
//! The helpers add nothing to the engine either: the engine [`TestIdme`] builds sends
//! every provider call to the in-memory emulator, and seals its cookies with a fresh
//! random key (whatever `cookie_keys` the application's settings give), so a cookie it
//! produces opens in no other engine.

use std::io;

use idme_core::{CookieKeys, EngineBuilder, Idme, IdmeBuilder, LoginOptions};
use tokio::sync::Mutex;

use crate::pair::{Browser, PAIR_REDIRECT_URI, Pair};
use crate::{EmulatorConfig, Persona};

mod bearer;

/// The application's engine, signing in against an in-memory emulator, and the helpers
/// giving signed-in requests for personas.
///
/// Its clock is the [`Pair`]'s: it starts at the system time of the creation and moves only
/// with [`pair().advance`](Pair::advance).
#[derive(Debug)]
pub struct TestIdme {
    pair: Pair,
    /// One sign-in at a time: the emulator's automatic user is set for each.
    signing_in: Mutex<()>,
}

impl TestIdme {
    /// The engine built by `configure` (the application's own settings, given a builder
    /// already pointed at the emulator, with the redirect URI
    /// [`PAIR_REDIRECT_URI`]: `https`, so the cookies carry the `__Host-` prefix).
    ///
    /// # Errors
    /// The emulator cannot start, or the configuration is invalid.
    pub async fn new(configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder) -> io::Result<TestIdme> {
        Self::with_engine(configure, |e| e).await
    }

    /// Like [`new`](Self::new), with the engine built by `engine` too: to register
    /// extensions, e.g. `|e| e.extension(AppServer::new(clients))` for [`bearer`](Self::bearer).
    ///
    /// # Errors
    /// The emulator cannot start, the configuration is invalid, or an extension refuses it.
    pub async fn with_engine(
        configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
        engine: impl FnOnce(EngineBuilder) -> EngineBuilder,
    ) -> io::Result<TestIdme> {
        let config = EmulatorConfig {
            auto_user: Some(Persona::Veteran),
            ..EmulatorConfig::default()
        };
        // A fresh key: what this engine seals opens nowhere else.
        let configure = move |b| configure(b).cookie_keys(CookieKeys::random());
        let pair = Pair::at_with_engine(PAIR_REDIRECT_URI, config, configure, engine).await?;
        Ok(TestIdme {
            pair,
            signing_in: Mutex::new(()),
        })
    }

    /// The engine, to build the application with (a cheap clone).
    pub fn engine(&self) -> Idme {
        self.pair.idme.clone()
    }

    /// The engine and the emulator underneath, for more (faults, the clock, logout, …).
    pub fn pair(&self) -> &Pair {
        &self.pair
    }

    /// `persona` signs in through the real flow, in memory: the browser afterwards.
    ///
    /// # Errors
    /// The sign-in is refused (the configuration asks for what the persona lacks, a fault
    /// is set on the emulator, …): an error with the engine's answer.
    ///
    /// # Panics
    /// When the emulator answers the authorization request with neither a redirect nor a
    /// form_post page (a fault breaking it).
    pub async fn sign_in(&self, persona: Persona) -> io::Result<SignedIn> {
        self.sign_in_with(persona, &LoginOptions::new()).await
    }

    /// [`sign_in`](Self::sign_in) with login options (a policy to verify, a return path).
    ///
    /// # Errors
    /// As [`sign_in`](Self::sign_in).
    ///
    /// # Panics
    /// As [`sign_in`](Self::sign_in).
    pub async fn sign_in_with(
        &self,
        persona: Persona,
        options: &LoginOptions,
    ) -> io::Result<SignedIn> {
        let _one = self.signing_in.lock().await;
        self.pair.emulator.set_auto_user(Some(persona));
        let attempt = self.pair.attempt(options).await;
        if attempt.reply.status != 303 {
            return Err(io::Error::other(format!(
                "{persona:?} is not signed in: {} {}",
                attempt.reply.status, attempt.reply.body
            )));
        }
        Ok(SignedIn {
            browser: attempt.browser,
        })
    }
}

/// A browser signed in by [`TestIdme::sign_in`]: its cookies, to send with a request.
#[derive(Debug, Clone)]
pub struct SignedIn {
    browser: Browser,
}

impl SignedIn {
    /// The `Cookie` header's value (`name=value; …`) of a request from this browser.
    pub fn cookie(&self) -> String {
        self.browser.cookie_header()
    }

    /// The `Cookie` header of a request from this browser, as `(name, value)`.
    ///
    /// # Panics
    /// Never: the engine's cookies are valid header values.
    pub fn header(&self) -> (http::HeaderName, http::HeaderValue) {
        let value = http::HeaderValue::from_str(&self.cookie()).expect("cookies are ASCII");
        (http::header::COOKIE, value)
    }

    /// The browser, holding the cookies (to keep what a response sets, or drop some).
    pub fn browser(&mut self) -> &mut Browser {
        &mut self.browser
    }
}

impl std::fmt::Display for SignedIn {
    /// The `Cookie` header's value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.cookie())
    }
}
