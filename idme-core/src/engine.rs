//! [`Idme`]: the engine every adapter drives. One per application, cheap to clone.

use std::sync::Arc;

use serde_json::json;

use crate::config::IdmeConfig;
use crate::cookies::RequestCookies;
use crate::error::Error;
use crate::error::ProviderMisbehaved;
use crate::flow::callback::CallbackInput;
use crate::flow::complete::{self, CallbackOutcome};
use crate::flow::replay::UsedLogins;
use crate::flow::start::{self, LoginOptions};
use crate::http_client::HttpClient;
use crate::pages;
use crate::provider::Provider;
use crate::reply::Reply;
use crate::session::bookkeeping::Sessions;
use crate::session::request;
use crate::session::{Authenticated, Denied, Session};
use crate::state::{Inner, OPENED_CACHE_CAPACITY};
use crate::user::IdmeUser;
use crate::validate::logout_token::{self, LOGOUT_TOKEN_MAX_AGE, LogoutToken};
use crate::verification::{Group, Policy, Requirement};

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
/// - **provider to server**: [`backchannel_logout`](Self::backchannel_logout);
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
    /// An engine calling the provider with the default HTTP client (reqwest with rustls).
    #[cfg(feature = "reqwest")]
    pub fn new(config: IdmeConfig) -> Self {
        let client = crate::http_client::ReqwestClient::new(config.http_timeout);
        Self::with_http_client(config, client)
    }

    /// An engine calling the provider through `client`. Every call is still bounded by the
    /// configured timeout, whatever the client does.
    pub fn with_http_client(config: IdmeConfig, client: impl HttpClient) -> Self {
        let provider = Provider::new(
            config.environment.issuer().trim_end_matches('/').to_owned(),
            Arc::new(client),
            config.http_timeout,
            config.jwks_refetch_interval,
        );
        Self {
            inner: Arc::new(Inner {
                provider,
                used_logins: UsedLogins::default(),
                sessions: Sessions::default(),
                opened: crate::session::cache::OpenedCache::new(OPENED_CACHE_CAPACITY),
                extension_routes: config
                    .extensions
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
            crate::flow::user_data::idme_api_url(&meta, "policies"),
            config.client_secret.as_ref(),
        ) else {
            return Ok(Vec::new());
        };
        let mut url =
            url::Url::parse(&url).map_err(|e| Error::config(format!("policies endpoint: {e}")))?;
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
            Err(e) => {
                let e = Error::config(format!("authorization endpoint is not a URL: {e}"));
                self.failure(&e, "login could not start")
            }
        }
    }

    /// `GET` or `POST` on the callback route: completes a login. Success is a 303 to the
    /// login's `return_to` with a fresh session cookie; failure is an error page, with no
    /// session; `error=access_denied` is a "sign-in cancelled" page.
    pub async fn callback(&self, input: CallbackInput<'_>, cookies: &RequestCookies) -> Reply {
        let config = &self.inner.config;
        let now = self.inner.config.clock.now();
        match complete::callback(self.inner.deps(), &input, cookies, now).await {
            CallbackOutcome::RelayPage => {
                pages::relay(config.page_notice(), &config.paths.callback)
            }
            CallbackOutcome::Done {
                session,
                return_to,
                clear,
            } => {
                // A session the browser had before this login is over: the new one has a
                // new id.
                if let Ok(old) = request::load(&self.inner, cookies, now).await {
                    request::forget(&self.inner, &old, now).await;
                }
                if let Some(store) = &config.session_store
                    && let Err(e) = store.save(&session.to_record(config)).await
                {
                    return self
                        .failure(&Error::from(e), "sign-in failed")
                        .with_cookie(clear);
                }
                tracing::info!(target: "idme::flow", sub = %session.sub, "signed in");
                Reply::redirect(return_to)
                    .with_cookie(clear)
                    .with_cookies(session.to_cookies(config, cookies, now))
            }
            CallbackOutcome::Failed { error, clear } => {
                self.failure(&error, "sign-in failed").with_cookies(clear)
            }
        }
    }

    /// `POST` on the logout route: ends the local session and sends the browser to the
    /// provider's logout (ID.me's `/oauth/logout`, or the discovered `end_session_endpoint`),
    /// or to `/` when the provider has none.
    ///
    /// `origin` and `sec_fetch_site` are the request's `Origin` and `Sec-Fetch-Site`
    /// headers. The logout is refused (`403`) unless they show a same-origin request:
    /// `Origin` equal to the application's origin, or, without `Origin`, `Sec-Fetch-Site:
    /// same-origin` (or `none`: typed by the user). `Sec-Fetch-Site: cross-site` or
    /// `same-site` is refused whatever `Origin` says.
    ///
    /// What [extensions](crate::extension::Extension) issued through this web session ends
    /// with it (for `idme-apps`, the grants approved in this browser). If that fails (their
    /// store is down), the session is kept and the answer is `503`: a logout never reports
    /// success while something it should have ended lives on.
    pub async fn logout(
        &self,
        cookies: &RequestCookies,
        origin: Option<&str>,
        sec_fetch_site: Option<&str>,
    ) -> Reply {
        self.end_sessions(cookies, origin, sec_fetch_site, false)
            .await
    }

    /// Like [`logout`](Self::logout), and ends every session of the person, here and on
    /// every device: all their web sessions (every browser), and everything extensions
    /// issued to them (for `idme-apps`, every grant). The logout route does this for a
    /// form with `everywhere=true`.
    pub async fn logout_everywhere(
        &self,
        cookies: &RequestCookies,
        origin: Option<&str>,
        sec_fetch_site: Option<&str>,
    ) -> Reply {
        self.end_sessions(cookies, origin, sec_fetch_site, true)
            .await
    }

    async fn end_sessions(
        &self,
        cookies: &RequestCookies,
        origin: Option<&str>,
        sec_fetch_site: Option<&str>,
        everywhere: bool,
    ) -> Reply {
        let config = &self.inner.config;
        if !crate::logout::is_same_origin(&config.redirect_uri, origin, sec_fetch_site) {
            tracing::warn!(target: "idme::logout", origin, sec_fetch_site, "logout refused: not a same-origin request");
            return Reply::html(403, "Cross-site logout refused.".into());
        }
        let now = self.inner.config.clock.now();
        let mut id_token_hint = None;
        match request::load(&self.inner, cookies, now).await {
            Ok(session) => {
                let ended = crate::extension::SessionsEnded {
                    reason: if everywhere {
                        crate::extension::SessionsEndedReason::LogoutEverywhere
                    } else {
                        crate::extension::SessionsEndedReason::Logout
                    },
                    sub: Some(&session.sub),
                    provider_sid: session.provider_sid.as_deref(),
                    session_id: Some(&session.sid),
                };
                if let Err(e) = crate::logout::end_in_extensions(self, ended).await {
                    tracing::error!(target: "idme::logout", error = %e, "logout failed: what extensions issued through the session could not be ended; the session is kept");
                    return self.failure(&Error::from(e), "sign-out failed");
                }
                request::forget(&self.inner, &session, now).await;
                if everywhere
                    && let Err(e) = request::forget_person(&self.inner, &session.sub, now).await
                {
                    tracing::error!(target: "idme::logout", error = %e, "sign-out everywhere failed: the person's other sessions could not be ended");
                    return self.failure(&Error::from(e), "sign-out failed");
                }
                tracing::info!(target: "idme::logout", sub = %session.sub, everywhere, "signed out");
                id_token_hint = session.id_token.clone();
            }
            Err(Error::SessionStoreUnavailable(e)) => {
                tracing::warn!(target: "idme::logout", error = %e, "session store unavailable: the stored session could not be deleted (it expires on its own)");
            }
            Err(_) => {}
        }
        let target = match self.inner.provider.metadata().await {
            Ok(meta) => crate::logout::provider_logout_url(
                config,
                &meta,
                id_token_hint.as_ref().map(|t| t.secret()),
            ),
            Err(e) => {
                tracing::warn!(target: "idme::logout", error = %e, "no discovery: local logout only");
                None
            }
        };
        Reply::redirect(target.unwrap_or_else(|| "/".into()))
            .with_cookies(Session::clear_cookies(config, cookies))
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
        request::authenticate(&self.inner, cookies, self.inner.config.clock.now()).await
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

    /// `POST` on the back-channel logout route: the provider says a user (`sub`) or one of
    /// their provider sessions (`sid`) signed out (OIDC Back-Channel Logout 1.0).
    ///
    /// The `logout_token` is checked as §2.6 requires: signature (JWKS), `iss`, `aud`,
    /// `iat`, the back-channel logout event, `sub` and/or `sid`, no `nonce`, and its `jti`
    /// not used before (replay; recorded only once its sessions have ended, so a retry
    /// after a `503` is honoured). A `sid` no stored session has, with a `sub` beside it,
    /// ends the user's sessions. The matching sessions end: deleted from the session store
    /// (on every instance sharing it), or — with the cookie store — refused by this
    /// process until they would have expired (the revocation list is per instance).
    /// Answers `200`, `400` for an invalid token, `503` when the store is down.
    pub async fn backchannel_logout(&self, content_type: Option<&str>, body: &[u8]) -> Reply {
        let no_store = |mut r: Reply| {
            r.headers.retain(|(k, _)| *k != "cache-control");
            r.headers.push(("cache-control", "no-store".into()));
            r
        };
        match self.end_sessions_for_logout_token(content_type, body).await {
            Ok(ended) => {
                tracing::info!(target: "idme::logout", ended, "back-channel logout");
                no_store(Reply {
                    status: 200,
                    headers: Vec::new(),
                    set_cookies: Vec::new(),
                    body: String::new(),
                })
            }
            Err(e) => {
                tracing::warn!(target: "idme::logout", error = %e, "back-channel logout refused");
                let (status, code) = match &e {
                    Error::SessionStoreUnavailable(_) => (503, "temporarily_unavailable"),
                    _ => (400, "invalid_request"),
                };
                no_store(Reply::json(status, &json!({ "error": code })))
            }
        }
    }

    /// Validates a logout token and ends its sessions; returns how many stored sessions
    /// were deleted (0 with the cookie store).
    async fn end_sessions_for_logout_token(
        &self,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<u64, Error> {
        let inner = &self.inner;
        let config = &inner.config;
        let bad = |why| Error::from(ProviderMisbehaved::InvalidLogoutToken(why));
        let now = self.inner.config.clock.now();
        let skew = config.clock_skew.as_secs();
        let LogoutToken { sub, sid, jti, iat } =
            logout_token::verify(&inner.config, &inner.provider, content_type, body, now).await?;
        let (sub, sid, jti) = (sub.as_deref(), sid.as_deref(), jti.as_str());
        if inner.sessions.jti_used(jti, now) {
            return Err(bad("jti replayed"));
        }
        // This instance's copies of the matching stored sessions go at once (other
        // instances' age out within `stored_copies::FRESH_FOR`).
        inner.sessions.stored.remove_matching(sub, sid);
        let ended = match &config.session_store {
            // A sid this app does not know, with the user's sub beside it: the user's
            // sessions end.
            Some(store) => match (sid, sub) {
                (Some(sid), sub) => match store.delete_by_provider_sid(sid).await? {
                    0 => match sub {
                        Some(sub) => store.delete_by_sub(sub).await?,
                        None => 0,
                    },
                    n => n,
                },
                (None, Some(sub)) => store.delete_by_sub(sub).await?,
                (None, None) => 0,
            },
            None => {
                // No index of sessions here: the provider session ends, and with a sub
                // beside it, the user's sessions that carry no provider session id.
                let until = now + config.session_lifetime.as_secs();
                match (sid, sub) {
                    (Some(sid), sub) => {
                        inner.sessions.revoke(format!("psid:{sid}"), now, until);
                        if let Some(sub) = sub {
                            inner.sessions.revoke(format!("nopsid:{sub}"), now, until);
                        }
                    }
                    (None, Some(sub)) => inner.sessions.revoke(format!("sub:{sub}"), now, until),
                    (None, None) => {}
                }
                0
            }
        };
        // What extensions issued to the person ends with their sessions; a failure is
        // answered 503, so the provider retries.
        let of_the_person = crate::extension::SessionsEnded {
            reason: crate::extension::SessionsEndedReason::BackchannelLogout,
            sub,
            provider_sid: sid,
            session_id: None,
        };
        crate::logout::end_in_extensions(self, of_the_person).await?;
        // Only now: a retry after a failed deletion is not a replay.
        inner
            .sessions
            .record_jti(jti, iat + LOGOUT_TOKEN_MAX_AGE + 2 * skew + 1, now);
        Ok(ended)
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

    fn bearer_extension(&self, token: &str) -> Option<&dyn crate::extension::Extension> {
        let extensions = self.inner.config.extensions.iter();
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
        self.inner
            .config
            .extensions
            .iter()
            .any(|e| e.accepts_bearer())
    }

    /// Logs a failure with its details (never a secret) and renders the public page.
    fn failure(&self, error: &Error, what: &str) -> Reply {
        pages::failure(&self.inner.config, error, what)
    }
}
