//! [`Pair`]: an `idme-core` engine and an [in-memory](Emulator::in_memory) emulator that
//! share one simulated clock. Every call the engine makes to the provider (discovery,
//! JWKS, token, userinfo, attributes) goes to the emulator's router directly: no socket is
//! opened. The clock starts at the system time of the pair's creation and then stands
//! still: expiry is reached with [`advance`](Pair::advance), never by sleeping, and real
//! time passing changes nothing.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use idme_core::{
    Authenticated, CallbackInput, Clock, Denied, EngineBuilder, Environment, Idme, IdmeBuilder,
    Reply,
};

use crate::util::SimClock;
use crate::{Emulator, EmulatorConfig, Persona};

mod browser;
mod callback;
mod check;
mod client;
mod flow;
mod loopback;
mod store;

pub use browser::Browser;
pub use callback::Callback;
pub use check::{
    assert_attempt_refused, assert_refused, clears_pending, sets_session, signed_in, signed_in_as,
};
use client::InMemory;
pub use flow::{Attempt, ProviderPage};
pub use loopback::{cookies_after, sign_in_through};
pub use store::SwitchableStore;

/// The redirect URI of a [`Pair`]'s application (never contacted: the pair calls the
/// engine itself).
pub const PAIR_REDIRECT_URI: &str = "https://app.example/auth/callback";

/// The redirect URI of an application on plain-http loopback (see [`Pair::at`]).
pub const PAIR_HTTP_REDIRECT_URI: &str = "http://127.0.0.1:3000/auth/callback";

/// An engine signing in against an in-memory emulator, on one simulated clock that
/// starts at the system time of the pair's creation and moves only with
/// [`advance`](Pair::advance).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// let pair = idme_testkit::pair::Pair::new(|b| b.session_lifetime(Duration::from_secs(60))).await;
/// let mut browser = pair.sign_in().await;
/// assert!(pair.authenticate(&mut browser).await.is_ok());
/// pair.advance(Duration::from_secs(61));
/// assert!(pair.authenticate(&mut browser).await.is_err());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Pair {
    /// The emulator (in memory; faults, personas and stats as usual).
    pub emulator: Emulator,
    /// The engine, calling the emulator in memory.
    pub idme: Idme,
    /// Seconds the engine's clock is ahead of the emulator's (behind when negative): moved
    /// only by [`advance_engine`](Pair::advance_engine) and
    /// [`advance_provider`](Pair::advance_provider).
    engine_skew: Arc<AtomicI64>,
}

impl Pair {
    /// A pair whose emulator signs in [`Persona::Veteran`] automatically, with the engine
    /// built by `configure` (given a builder already pointed at the emulator).
    ///
    /// # Panics
    /// When the emulator cannot start or the configuration is invalid.
    pub async fn new(configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder) -> Pair {
        Self::with_emulator(
            EmulatorConfig {
                auto_user: Some(Persona::Veteran),
                ..EmulatorConfig::default()
            },
            configure,
        )
        .await
        .expect("a pair starts")
    }

    /// Like [`new`](Self::new), with the engine built by `engine` too (given a builder of
    /// the configuration `configure` made and of the in-memory HTTP client): to register
    /// [extensions](idme_core::extension::Extension).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// #[derive(Debug)]
    /// struct Bearer;
    /// impl idme_core::extension::Extension for Bearer {
    ///     fn accepts_bearer(&self) -> bool {
    ///         true
    ///     }
    /// }
    /// let pair = idme_testkit::pair::Pair::with_engine(|b| b, |e| e.extension(Bearer)).await;
    /// assert!(pair.idme.accepts_bearer());
    /// # }
    /// ```
    ///
    /// # Panics
    /// When the emulator cannot start, the configuration is invalid or an extension
    /// refuses it.
    pub async fn with_engine(
        configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
        engine: impl FnOnce(EngineBuilder) -> EngineBuilder,
    ) -> Pair {
        let config = EmulatorConfig {
            auto_user: Some(Persona::Veteran),
            ..EmulatorConfig::default()
        };
        Self::at_with_engine(PAIR_REDIRECT_URI, config, configure, engine)
            .await
            .expect("a pair starts")
    }

    /// A pair with this emulator configuration ([`PAIR_REDIRECT_URI`] is registered).
    ///
    /// # Errors
    /// The emulator refuses its configuration, or the engine's is invalid.
    pub async fn with_emulator(
        config: EmulatorConfig,
        configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
    ) -> io::Result<Pair> {
        Self::at(PAIR_REDIRECT_URI, config, configure).await
    }

    /// A pair whose application's redirect URI is `redirect_uri` (registered at the
    /// emulator): [`PAIR_HTTP_REDIRECT_URI`] for an app on plain-http loopback, whose
    /// cookies carry no `__Host-` prefix.
    ///
    /// # Errors
    /// The emulator refuses its configuration, or the engine's is invalid.
    pub async fn at(
        redirect_uri: &str,
        config: EmulatorConfig,
        configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
    ) -> io::Result<Pair> {
        Self::at_with_engine(redirect_uri, config, configure, |e| e).await
    }

    /// [`at`](Self::at), with the engine built by `engine` too (see
    /// [`with_engine`](Self::with_engine)).
    ///
    /// # Errors
    /// The emulator refuses its configuration, the engine's is invalid, or an extension
    /// refuses it.
    pub async fn at_with_engine(
        redirect_uri: &str,
        mut config: EmulatorConfig,
        configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
        engine: impl FnOnce(EngineBuilder) -> EngineBuilder,
    ) -> io::Result<Pair> {
        config.redirect_uris.push(redirect_uri.to_owned());
        let emulator = Emulator::in_memory_on(config, SimClock::stopped()).await?;
        let redirect_uri = redirect_uri.to_owned();
        Self::engine(
            emulator,
            Arc::new(AtomicI64::new(0)),
            move |b| configure(b.redirect_uri(redirect_uri)),
            engine,
        )
    }

    /// A second engine built by `configure` against the same emulator, at the same
    /// redirect URI and on the same simulated clock: for two apps (or two instances of
    /// one) sharing cookie keys or a session store, which `configure` gives it.
    ///
    /// # Errors
    /// The engine's configuration is invalid.
    pub fn second(&self, configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder) -> io::Result<Pair> {
        self.second_with_engine(configure, |e| e)
    }

    /// [`second`](Self::second), with the engine built by `engine` too (see
    /// [`with_engine`](Self::with_engine)).
    ///
    /// # Errors
    /// The engine's configuration is invalid, or an extension refuses it.
    pub fn second_with_engine(
        &self,
        configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
        engine: impl FnOnce(EngineBuilder) -> EngineBuilder,
    ) -> io::Result<Pair> {
        let redirect_uri = self.idme.config().redirect_uri().to_string();
        Self::engine(
            self.emulator.clone(),
            Arc::clone(&self.engine_skew),
            move |b| configure(b.redirect_uri(redirect_uri)),
            engine,
        )
    }

    fn engine(
        emulator: Emulator,
        engine_skew: Arc<AtomicI64>,
        configure: impl FnOnce(IdmeBuilder) -> IdmeBuilder,
        engine: impl FnOnce(EngineBuilder) -> EngineBuilder,
    ) -> io::Result<Pair> {
        // The engine reads the emulator's clock, plus its skew.
        let clock = Clock::from_fn({
            let (emulator, skew) = (emulator.clone(), Arc::clone(&engine_skew));
            move || {
                emulator
                    .now()
                    .saturating_add_signed(skew.load(Ordering::SeqCst))
            }
        });
        let builder = IdmeBuilder::new()
            .environment(Environment::Custom(emulator.issuer()))
            .client_id(emulator.client_id())
            .client_secret(emulator.client_secret())
            .redirect_uri(PAIR_REDIRECT_URI);
        fn invalid(e: impl std::fmt::Display) -> io::Error {
            io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
        }
        let config = configure(builder)
            .dangerous()
            .clock(clock)
            .build()
            .map_err(invalid)?;
        let idme = engine(Idme::builder(config).http_client(InMemory(emulator.clone())))
            .build()
            .map_err(invalid)?;
        Ok(Pair {
            emulator,
            idme,
            engine_skew,
        })
    }

    /// The engine's time (Unix seconds): the pair's start plus every
    /// [`advance`](Self::advance) (and the engine's skew, if one was set).
    pub fn now(&self) -> u64 {
        self.idme.config().clock().now()
    }

    /// Moves the pair's clock, the engine's and the emulator's time, ahead by `by` (whole
    /// seconds). The only way the pair's time moves.
    pub fn advance(&self, by: Duration) {
        self.emulator.advance_clock(by);
    }

    /// Skews the engine ahead of the emulator by `by` more (whole seconds): the provider's
    /// tokens look old to it. Only the engine's time moves.
    pub fn advance_engine(&self, by: Duration) {
        self.engine_skew.fetch_add(secs(by), Ordering::SeqCst);
    }

    /// Skews the emulator ahead of the engine by `by` more (whole seconds): its tokens
    /// look issued in the future. Only the emulator's time moves.
    pub fn advance_provider(&self, by: Duration) {
        self.emulator.advance_clock(by);
        self.engine_skew.fetch_sub(secs(by), Ordering::SeqCst);
    }

    /// Starts a login; the reply redirects to the emulator and sets the pending cookie.
    pub async fn login(&self) -> Reply {
        self.idme.login(None).await
    }

    /// Follows `login`'s redirect to the emulator's authorization endpoint, where the
    /// automatic user signs in; returns the query of the callback the browser is sent to.
    ///
    /// # Panics
    /// When the emulator does not redirect back (no automatic user, a refused request).
    pub async fn authorize(&self, login: &Reply) -> String {
        let location = login.header("location").expect("login redirects");
        let request = http::Request::get(location)
            .body(axum::body::Body::empty())
            .expect("a request");
        let response = self.emulator.handle(request).await;
        assert_eq!(response.status(), 303, "the emulator redirects back");
        let to = response.headers()[http::header::LOCATION]
            .to_str()
            .expect("an ASCII location");
        let to = url::Url::parse(to).expect("an absolute location");
        to.query().unwrap_or_default().to_owned()
    }

    /// Hands the callback `query` to the engine with the cookies `login` set.
    pub async fn callback(&self, login: &Reply, query: &str) -> Reply {
        let mut browser = Browser::default();
        browser.apply(&login.set_cookies);
        let input = CallbackInput::get(Some(query));
        self.idme.callback(input, &browser.cookies()).await
    }

    /// login → authorize (automatic user) → callback in the configured response mode, in
    /// memory: the browser holding the session cookies.
    ///
    /// # Panics
    /// When the sign-in fails.
    pub async fn sign_in(&self) -> Browser {
        self.sign_in_with(&idme_core::LoginOptions::new()).await
    }

    /// Authenticates a request from `browser`, which keeps the cookies the engine sets.
    pub async fn authenticate(&self, browser: &mut Browser) -> Result<Authenticated, Denied> {
        let outcome = self.idme.authenticate(&browser.cookies()).await;
        match &outcome {
            Ok(a) => browser.apply(&a.set_cookies),
            Err(d) => browser.apply(&d.set_cookies),
        }
        outcome
    }
}

/// `by` in whole seconds, as a skew.
fn secs(by: Duration) -> i64 {
    i64::try_from(by.as_secs()).unwrap_or(i64::MAX)
}
