//! Sign-in for native apps (OAuth 2.0 for Native Apps, RFC 8252) with the web engine's own
//! flow: plain values in, plain values out, no cookies and no I/O besides the provider's.
//!
//! The app calls [`Idme::start_native_login`] with the redirect URI of this login (its
//! loopback listener's, or its private-use scheme's), keeps the [`PendingNativeLogin`] in
//! memory, sends the person's browser to the authorization URL, and hands the redirect's
//! query to [`Idme::finish_native_login`]. The code exchange, the ID token, userinfo and
//! verification checks are the web engine's. `idme-native` drives this for desktop and
//! command-line apps.

use serde::{Deserialize, Serialize};
use tracing::Instrument;
use url::Url;

use crate::config::native::redirect_uri_matches;
use crate::engine::Idme;
use crate::error::{CallbackRejected, Error};
use crate::flow::callback;
use crate::flow::complete;
use crate::flow::driver;
use crate::flow::pending::PendingLogin;
use crate::flow::start::{self, LoginOptions};
use crate::metrics::RefreshOutcome;
use crate::secret::{AccessToken, IdToken};
use crate::session::Session;
use crate::user::IdmeUser;

/// A started native login: where to send the browser, and what its redirect must match.
/// `Debug` shows the authorization URL without its query (it carries `state` and `nonce`).
pub struct NativeLogin {
    /// The authorization URL to open in the system browser.
    pub authorize_url: String,
    /// Keep it in memory until the redirect arrives; it is single-use.
    pub pending: PendingNativeLogin,
}

impl std::fmt::Debug for NativeLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let endpoint = self.authorize_url.split('?').next().unwrap_or_default();
        f.debug_struct("NativeLogin")
            .field("authorize_url", &format_args!("{endpoint}?[redacted]"))
            .field("pending", &self.pending)
            .finish()
    }
}

/// What a native login's redirect must match (state, nonce, PKCE verifier, redirect URI).
/// `Debug` shows no secret.
#[derive(Debug)]
pub struct PendingNativeLogin {
    login: PendingLogin,
}

impl PendingNativeLogin {
    /// Whether `state` is this login's, compared in constant time.
    pub fn state_matches(&self, state: &str) -> bool {
        self.login.state.ct_eq_str(state)
    }

    /// The redirect URI this login asked for.
    pub fn redirect_uri(&self) -> &str {
        self.login.redirect_uri.as_deref().unwrap_or_default()
    }

    /// Unix seconds when the login started.
    pub fn created_at(&self) -> u64 {
        self.login.created_at
    }
}

/// A signed-in user of a native app with the tokens of the sign-in: serializable for the
/// app's token store; `Debug` redacts every token.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NativeSession {
    session: Session,
}

impl std::fmt::Debug for NativeSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeSession")
            .field("sub", &self.session.sub)
            .field("access_token", &self.session.access_token)
            .field("refresh_token", &self.session.refresh_token)
            .field("access_expires_at", &self.session.access_expires_at)
            .finish_non_exhaustive()
    }
}

impl NativeSession {
    /// The user: `sub`, claims and what ID.me verified, as the web engine sees them.
    pub fn user(&self) -> IdmeUser {
        IdmeUser::from_shared(std::sync::Arc::new(self.session.clone()), None)
    }

    /// The ID.me subject.
    pub fn sub(&self) -> &str {
        &self.session.sub
    }

    /// The access token. ID.me access tokens are single-use and the engine spent this one
    /// on userinfo or `attributes.json`: call [`Idme::refresh_native`] for a fresh one.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.session.access_token.as_ref()
    }

    /// Whether a refresh token was issued (`offline_access`).
    pub fn has_refresh_token(&self) -> bool {
        self.session.refresh_token.is_some()
    }

    /// Unix seconds when the access token expires, when the provider said.
    pub fn access_expires_at(&self) -> Option<u64> {
        self.session.access_expires_at
    }

    /// The ID token as issued, kept when the provider has an end-session endpoint.
    pub fn id_token(&self) -> Option<&IdToken> {
        self.session.id_token.as_ref()
    }
}

impl Idme {
    /// Starts a native login whose redirect comes to `redirect_uri`: the configured redirect
    /// URI, or, when it is a loopback IP literal without a port, the same URI with the port
    /// the app listens on (RFC 8252 §7.3). Fetches discovery when not cached.
    pub async fn start_native_login(
        &self,
        redirect_uri: &str,
        options: &LoginOptions,
        now: u64,
    ) -> Result<NativeLogin, Error> {
        let config = &self.inner.config;
        let actual = Url::parse(redirect_uri)
            .ok()
            .filter(|u| redirect_uri_matches(&config.redirect_uri, u))
            .ok_or_else(|| crate::ConfigError::RedirectMismatch {
                redirect_uri: redirect_uri.to_owned(),
                registered: config.redirect_uri.to_string(),
            })?;
        let meta = self.inner.provider.metadata().await?;
        // The web engine's own authorization request (the same state, nonce, PKCE and
        // parameters) with this login's redirect URI; the pending login stays in memory
        // rather than in a cookie.
        let (url, login) = start::authorization_request(
            config,
            &meta.authorization_endpoint,
            options,
            Some(&actual),
            now,
        )?;
        Ok(NativeLogin {
            authorize_url: url.into(),
            pending: PendingNativeLogin { login },
        })
    }

    /// Finishes a native login with the query of the redirect (`code=…&state=…`, or
    /// `error=…`): checks `state` in constant time, the login's age and single use, then
    /// runs the web engine's code exchange and checks. Counted in `idme_sign_ins_total`, in
    /// an `idme.sign_in` span, like a web callback.
    pub async fn finish_native_login(
        &self,
        pending: PendingNativeLogin,
        callback_query: &str,
        now: u64,
    ) -> Result<NativeSession, Error> {
        let span = crate::trace::sign_in();
        let result = self
            .finish_native_login_now(pending, callback_query, now)
            .instrument(span.clone())
            .await;
        let outcome = match &result {
            Ok(_) => crate::metrics::SignInOutcome::Success,
            Err(e) => e.sign_in_outcome(),
        };
        crate::trace::finish_sign_in(&span, outcome);
        result
    }

    async fn finish_native_login_now(
        &self,
        pending: PendingNativeLogin,
        callback_query: &str,
        now: u64,
    ) -> Result<NativeSession, Error> {
        let inner = &self.inner;
        let params = callback::parse_form(callback_query.as_bytes())?;
        if let Some(code) = params.get("error") {
            return Err(complete::redirect_error(code).into());
        }
        let Some(state) = params.get("state") else {
            return Err(if params.has_response() {
                CallbackRejected::MissingState
            } else {
                CallbackRejected::Malformed
            }
            .into());
        };
        let login = pending.login;
        let expires_at = login.expires_at(inner.config.login_timeout);
        if !login.state.ct_eq_str(state) {
            // A state this engine already finished is a replay; any other is foreign, and
            // is not recorded (whoever reaches the loopback port could fill the record).
            return Err(if inner.used_logins.was_used(state, now) {
                CallbackRejected::Replayed
            } else {
                CallbackRejected::StateMismatch
            }
            .into());
        }
        if !login.is_live(inner.config.login_timeout, now) {
            return Err(CallbackRejected::LoginExpired.into());
        }
        if !inner.used_logins.claim(state, expires_at, now) {
            return Err(CallbackRejected::Replayed.into());
        }
        let (session, _) = complete::accepted_login(inner.deps(), &params, login, now).await?;
        Ok(NativeSession { session })
    }

    /// Finishes a native login with the whole redirect URL the app received: a private-use
    /// scheme redirect handed over by the OS (`com.example.app:/oauth2redirect?code=…`,
    /// RFC 8252 §7.1), or a loopback one. The URL must be this login's redirect URI plus
    /// the response in the query; anything else is refused before any other check.
    pub async fn finish_native_redirect(
        &self,
        pending: PendingNativeLogin,
        redirect_url: &str,
        now: u64,
    ) -> Result<NativeSession, Error> {
        let url = Url::parse(redirect_url).map_err(|_| CallbackRejected::Malformed)?;
        let mut base = url.clone();
        base.set_query(None);
        base.set_fragment(None);
        if base.as_str() != pending.redirect_uri() || url.fragment().is_some() {
            return Err(CallbackRejected::Malformed.into());
        }
        self.finish_native_login(pending, url.query().unwrap_or(""), now)
            .await
    }

    /// Renews the tokens with the refresh token (ID.me access tokens are single-use: a
    /// spent one is never reused). A rotated refresh token replaces the old one.
    pub async fn refresh_native(
        &self,
        session: &NativeSession,
        now: u64,
    ) -> Result<NativeSession, Error> {
        let s = &session.session;
        let refresh_token = s
            .refresh_token
            .as_ref()
            .ok_or(crate::error::Unauthenticated::Expired)?;
        let span = crate::trace::refresh();
        let refreshed = driver::refresh(
            self.inner.deps(),
            refresh_token,
            &s.sub,
            s.nonce.as_deref(),
            now,
        )
        .instrument(span.clone())
        .await;
        let outcome = match &refreshed {
            Ok(_) => RefreshOutcome::Success,
            Err(Error::ProviderUnavailable(_)) => RefreshOutcome::ProviderUnavailable,
            Err(_) => RefreshOutcome::Refused,
        };
        crate::metrics::refresh(outcome);
        let ok = outcome == RefreshOutcome::Success;
        crate::trace::outcome(&span, outcome.as_str(), ok);
        let crate::flow::refresh::Refreshed { tokens, .. } = refreshed?;
        let mut renewed = s.clone();
        renewed.access_token = Some(tokens.access_token);
        renewed.refresh_token = tokens.refresh_token;
        renewed.access_expires_at = tokens.access_expires_at;
        renewed.last_seen = now;
        Ok(NativeSession { session: renewed })
    }

    /// The provider's logout URL for a native app: ID.me's `/oauth/logout`, or the
    /// discovered end-session endpoint, or `None` when the provider has neither. The URL
    /// is shown to the person or handed to a browser, so it carries no `id_token_hint`
    /// (the ID token stays with [`NativeSession::id_token`]).
    pub async fn native_logout_url(&self) -> Option<String> {
        let meta = self.inner.provider.metadata().await.ok()?;
        crate::logout::provider_logout_url(&self.inner.config, &meta, None)
    }
}
