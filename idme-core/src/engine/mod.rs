//! [`Idme`]: the engine every adapter drives. One per application, cheap to clone.

mod authenticate;
mod builder;
mod host;
mod logout;
mod refresh;
mod security_events;
mod session_info;
pub(crate) mod state;

pub use builder::EngineBuilder;

use std::sync::Arc;

use crate::config::IdmeConfig;
use crate::cookies::RequestCookies;
use crate::error::Error;
use crate::extension::Extension;
use crate::flow::callback::CallbackInput;
use crate::flow::complete::{self, CallbackOutcome};
use crate::flow::replay::UsedLogins;
use crate::flow::start::{self, LoginOptions};
use crate::http_client::HttpClient;
use crate::pages;
use crate::provider::Provider;
use crate::reply::Reply;
use crate::session::bookkeeping::Sessions;
use crate::user::IdmeUser;
use crate::user::{Authenticated, Denied};
use crate::verification::{Group, Policy, Requirement};
use state::{Inner, OPENED_CACHE_CAPACITY};

/// The ID.me sign-in engine.
///
/// Adapters call, per route:
/// - **inputs**: [`login`](Self::login), [`callback`](Self::callback),
///   [`logout`](Self::logout) — each returns a [`Reply`] to send as it is;
/// - **per request**: [`authenticate`](Self::authenticate) (opens the session cookie,
///   loads the session from the store if there is one, refreshes tokens about to expire;
///   no network otherwise; the cookies either outcome carries must be set on the response),
///   most easily through the adapter glue's `adapter::RequestAuth`, which also
///   answers a request without a user;
/// - **provider to server**: [`backchannel_logout`](Self::backchannel_logout),
///   [`receive_security_event`](Self::receive_security_event);
/// - **getters**: [`config`](Self::config).
#[derive(Clone)]
pub struct Idme {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Idme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idme")
            .field("issuer", &self.inner.provider.issuer())
            .field("client_id", &self.inner.config.client_id)
            .finish_non_exhaustive()
    }
}

impl Idme {
    /// An engine calling the provider with the default HTTP client (reqwest with rustls),
    /// without extensions (those are registered with [`builder`](Self::builder)).
    #[cfg(feature = "reqwest")]
    pub fn new(config: IdmeConfig) -> Self {
        let client = crate::http_client::ReqwestClient::new(config.http_timeout);
        Self::with_http_client(config, client)
    }

    /// An engine calling the provider through `client`, without extensions. Every call is
    /// still bounded by the configured timeout, whatever the client does.
    pub fn with_http_client(config: IdmeConfig, client: impl HttpClient) -> Self {
        Self::assemble(config, Arc::new(client), Vec::new())
    }

    /// The engine of a checked configuration, its HTTP client and its extensions.
    fn assemble(
        config: IdmeConfig,
        client: Arc<dyn HttpClient>,
        extensions: Vec<Arc<dyn Extension>>,
    ) -> Self {
        // The security-event transmitter's keys: a second key set, at its own URL.
        let events_keys = config.security_events.as_ref().map(|events| {
            Provider::new(
                events.issuer.clone(),
                Arc::clone(&client),
                config.http_timeout,
                config.jwks_refetch_interval,
            )
            .with_jwks_url(events.jwks_url.to_string())
        });
        let provider = Provider::new(
            config.environment.issuer().trim_end_matches('/').to_owned(),
            client,
            config.http_timeout,
            config.jwks_refetch_interval,
        );
        Self {
            inner: Arc::new(Inner {
                provider,
                events_keys,
                used_logins: UsedLogins::default(),
                sessions: Sessions::default(),
                opened: crate::session::cache::OpenedCache::new(OPENED_CACHE_CAPACITY),
                extension_routes: extensions
                    .iter()
                    .enumerate()
                    .flat_map(|(e, extension)| {
                        extension
                            .routes()
                            .into_iter()
                            .enumerate()
                            .map(move |(r, route)| (e, r, route))
                    })
                    .collect(),
                extensions,
                config,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &IdmeConfig {
        &self.inner.config
    }

    /// Fetches discovery and the signing keys now, so a misconfigured issuer shows at
    /// startup instead of at the first sign-in.
    ///
    /// When policies are configured and the provider is ID.me (or shaped like it), it also
    /// asks ID.me's policies endpoint which are enabled for this client and logs a warning
    /// naming each configured one that is not.
    pub async fn discover(&self) -> Result<(), Error> {
        self.inner.provider.metadata().await?;
        let now = self.inner.config.clock.now();
        self.inner.provider.warm_jwks(now).await?;
        match self.check_policies().await {
            Ok(missing) if !missing.is_empty() => tracing::warn!(
                target: "idme::config",
                policies = ?missing,
                "these configured policies are not enabled for this client at ID.me: sign-in will fail with invalid_scope; ask ID.me to enable them or remove them from IDME_SCOPES"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(target: "idme::config", error = %e, "could not check the client's policies")
            }
        }
        Ok(())
    }

    /// The configured policies (scopes other than `openid`) that ID.me's policies endpoint
    /// does not list as enabled for this client. Empty when there is nothing to check or
    /// the provider has no such endpoint.
    pub async fn check_policies(&self) -> Result<Vec<String>, Error> {
        let config = &self.inner.config;
        let wanted: Vec<&String> = config.scopes.iter().filter(|s| *s != "openid").collect();
        let meta = self.inner.provider.metadata().await?;
        let (false, Some(url), Some(secret)) = (
            wanted.is_empty(),
            crate::flow::attributes::idme_api_url(&meta, "policies"),
            config.client_secret.as_ref(),
        ) else {
            return Ok(Vec::new());
        };
        let mut url =
            url::Url::parse(&url).map_err(|e| crate::ConfigError::endpoint_url("policies", e))?;
        url.query_pairs_mut()
            .append_pair("client_id", &config.client_id)
            .append_pair("client_secret", secret.secret());
        let body = self
            .inner
            .provider
            .get(url.as_str(), crate::error::Endpoint::Policies, None)
            .await?;
        let enabled = crate::verification::parse_policies(&body)
            .ok_or(crate::error::ProviderMisbehaved::MalformedAttributes)?;
        Ok(wanted
            .into_iter()
            .filter(|w| !enabled.iter().any(|e| e == *w))
            .cloned()
            .collect())
    }

    /// `GET` on the login route: starts a login. `query` is the raw query string:
    /// `return_to` (a local path) says where to go afterwards; `op`, `locale` and
    /// `policy` are read as [`LoginOptions::from_query`] describes.
    pub async fn login(&self, query: Option<&str>) -> Reply {
        self.login_with(&LoginOptions::from_query(query)).await
    }

    /// Starts a login with explicit options.
    pub async fn login_with(&self, options: &LoginOptions) -> Reply {
        let inner = &self.inner;
        let meta = match inner.provider.metadata().await {
            Ok(m) => m,
            Err(e) => return self.failure(&e, "login could not start"),
        };
        match start::start(
            &inner.config,
            &meta.authorization_endpoint,
            options,
            inner.config.clock.now(),
        ) {
            Ok(started) => Reply::redirect(started.url.to_string()).with_cookie(started.cookie),
            Err(e) => self.failure(&e, "login could not start"),
        }
    }

    /// `GET` or `POST` on the callback route: completes a login. Success is a 303 to the
    /// login's `return_to` with a fresh session cookie; failure is an error page, with no
    /// session; `error=access_denied` is a "sign-in cancelled" page.
    pub async fn callback(&self, input: CallbackInput<'_>, cookies: &RequestCookies) -> Reply {
        use tracing::Instrument;
        let span = crate::trace::sign_in();
        self.sign_in(input, cookies, &span)
            .instrument(span.clone())
            .await
    }

    /// The callback, counted in `idme_sign_ins_total` and recorded on `span`.
    async fn sign_in(
        &self,
        input: CallbackInput<'_>,
        cookies: &RequestCookies,
        span: &tracing::Span,
    ) -> Reply {
        use crate::metrics::SignInOutcome;
        let finish = |outcome: SignInOutcome| crate::trace::finish_sign_in(span, outcome);
        let config = &self.inner.config;
        let now = self.inner.config.clock.now();
        match complete::callback(self.inner.deps(), &input, cookies, now).await {
            CallbackOutcome::RelayPage => {
                crate::trace::outcome(span, "relay_page", true);
                pages::relay(config.page_notice(), &config.paths.callback)
            }
            CallbackOutcome::Done {
                session,
                return_to,
                clear,
            } => {
                // A session the browser had before this login is over: the new one has a
                // new id.
                if let Ok(old) = authenticate::load(&self.inner, cookies, now).await {
                    authenticate::forget(&self.inner, &old, now).await;
                }
                if let Some(store) = &config.session_store
                    && let Err(e) = store.save(&session.to_record(config)).await
                {
                    finish(SignInOutcome::StoreUnavailable);
                    return self
                        .failure(&Error::from(e), "sign-in failed")
                        .with_cookie(clear);
                }
                finish(SignInOutcome::Success);
                tracing::info!(target: "idme::flow", sub = %session.sub, "signed in");
                Reply::redirect(return_to)
                    .with_cookie(clear)
                    .with_cookies(session.to_cookies(config, cookies, now))
            }
            CallbackOutcome::Failed { error, clear } => {
                finish(error.sign_in_outcome());
                self.failure(&error, "sign-in failed").with_cookies(clear)
            }
        }
    }

    /// The signed-in user of a request.
    ///
    /// Opens the session cookie (reassembling its chunks); with a session store, loads the
    /// session by the id the cookie holds. Then enforces the absolute and idle lifetimes
    /// and logouts, and, when the access token expires within the refresh margin and there
    /// is a refresh token, refreshes the tokens (single-flight per session; a provider
    /// that is down keeps the session, a refused refresh ends it). Without a store and
    /// without a refresh due, there is no network and no I/O.
    ///
    /// Both outcomes carry cookies the adapter must set on the response: a re-sealed
    /// session (new tokens, last-seen time) or the deletion of a dead one.
    pub async fn authenticate(&self, cookies: &RequestCookies) -> Result<Authenticated, Denied> {
        authenticate::authenticate(&self.inner, cookies, self.inner.config.clock.now()).await
    }

    /// What to answer a request that needs a user but has none. When nobody is signed in
    /// (or the session is over), browsers (`Accept: text/html`) are sent to the login route
    /// with `return_to` set to `path_and_query`, and API clients get `401` JSON; when the
    /// session store is down, `503`. The cookies of `denied` (a dead session's deletion)
    /// are included.
    pub fn unauthenticated(
        &self,
        denied: Denied,
        accept: Option<&str>,
        path_and_query: &str,
    ) -> Reply {
        let config = &self.inner.config;
        let Denied { error, set_cookies } = denied;
        crate::reply::unauthenticated(&error, accept, path_and_query, &config.paths.login, || {
            self.failure(&error, "no session")
        })
        .with_cookies(set_cookies)
    }

    /// Checks a signed-in user against a verification requirement. A user who does not
    /// meet it gets `403`: browsers a page that explains what is needed and offers to
    /// verify with ID.me (the login route asking for the group's policy, coming back to
    /// `path_and_query`), API clients JSON with `verify_url`.
    pub fn require(
        &self,
        user: &IdmeUser,
        requirement: &Requirement,
        accept: Option<&str>,
        path_and_query: &str,
    ) -> Result<(), Reply> {
        if user.meets(requirement) {
            return Ok(());
        }
        tracing::debug!(target: "idme::verification", sub = user.sub(), requirement = ?requirement, "verification required");
        let verify_url = self.verify_url_for(&requirement.policy(), path_and_query);
        let notice = self.inner.config.page_notice();
        if crate::reply::wants_html(accept) {
            Err(pages::verification_required(
                notice,
                requirement,
                &verify_url,
            ))
        } else {
            Err(pages::verification_required_json(requirement, &verify_url))
        }
    }

    /// The login route asking ID.me to verify `group`, returning to `return_to`.
    pub fn verify_url(&self, group: Group, return_to: &str) -> String {
        self.verify_url_for(&group.policy(), return_to)
    }

    /// The login route asking ID.me for `policy`, returning to `return_to`.
    pub fn verify_url_for(&self, policy: &Policy, return_to: &str) -> String {
        crate::flow::return_to::verify_url(&self.inner.config, policy, return_to)
    }

    /// Whether an extension that accepts bearer tokens recognizes `token` as one of its
    /// own (from its shape, without I/O).
    pub fn recognizes_bearer(&self, token: &str) -> bool {
        self.bearer_extension(token).is_some()
    }

    fn bearer_extension(&self, token: &str) -> Option<&dyn Extension> {
        let extensions = self.inner.extensions.iter();
        extensions
            .map(|e| &**e)
            .find(|e| e.accepts_bearer() && e.recognizes_bearer(token))
    }

    /// The user of a bearer token (of an `Authorization: Bearer` header), as the
    /// [extension](crate::extension::Extension) that
    /// [recognizes](crate::extension::Extension::recognizes_bearer) it says:
    /// [`Unauthenticated::InvalidToken`](crate::Unauthenticated::InvalidToken) for an
    /// unknown, expired or revoked token or one no extension recognizes,
    /// [`Error::SessionStoreUnavailable`] when the extension's store is down.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<IdmeUser, Error> {
        match self.bearer_extension(token) {
            Some(extension) => extension.authenticate_bearer(self, token).await,
            None => Err(crate::Unauthenticated::InvalidToken.into()),
        }
    }

    /// Whether an extension accepts bearer tokens (requests may then authenticate with
    /// `Authorization: Bearer`).
    pub fn accepts_bearer(&self) -> bool {
        self.inner.extensions.iter().any(|e| e.accepts_bearer())
    }

    /// Logs a failure with its details (never a secret) and renders the public page.
    fn failure(&self, error: &Error, what: &str) -> Reply {
        pages::failure(&self.inner.config, error, what)
    }
}
