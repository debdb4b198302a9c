//! [`NativeClient`]: sign-in, refresh and logout for a desktop or command-line app.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use idme_core::config::UrlRule;
use idme_core::native::NativeSession;
use idme_core::{ConfigError, Idme, LoginOptions};
use url::{Host, Url};

use crate::browser::BrowserOpener;
use crate::error::NativeError;
use crate::listener::{self, Redirect};
use crate::store::{FileStore, MemoryTokenStore, TokenStore};

/// How long [`login`](NativeClient::login) waits for the browser by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Signs a person in from a desktop or command-line app through the system browser and a
/// loopback redirect (RFC 8252), with the web engine's checks, and keeps the tokens.
///
/// The engine must be configured for a native app ([`IdmeBuilder::build_native`]) with a
/// loopback redirect URI, `http://127.0.0.1/callback` (any port) or one with a fixed port.
///
/// [`IdmeBuilder::build_native`]: idme_core::IdmeBuilder::build_native
#[derive(Debug, Clone)]
pub struct NativeClient {
    idme: Idme,
    browser: BrowserOpener,
    timeout: Duration,
    port: Option<u16>,
    store: Arc<dyn TokenStore>,
    options: LoginOptions,
}

impl NativeClient {
    /// A client over `idme`, opening the system browser, waiting 5 minutes, keeping the
    /// tokens in memory (choose a store with [`token_store`](Self::token_store) or
    /// [`token_file`](Self::token_file)).
    pub fn new(idme: Idme) -> Self {
        Self {
            idme,
            browser: BrowserOpener::System,
            timeout: DEFAULT_TIMEOUT,
            port: None,
            store: Arc::new(MemoryTokenStore::default()),
            options: LoginOptions::default(),
        }
    }

    /// A client configured from the `IDME_*` environment variables
    /// ([`IdmeBuilder::from_env`](idme_core::IdmeBuilder::from_env), then
    /// [`build_native`](idme_core::IdmeBuilder::build_native)); the redirect URI defaults
    /// to `http://127.0.0.1/callback`.
    /// Without `IDME_CLIENT_SECRET` and `IDME_TOKEN_AUTH`, the client is public
    /// (`IDME_TOKEN_AUTH=none`), see [`builder_from_lookup`].
    #[cfg(feature = "reqwest")]
    pub fn from_env() -> Result<Self, NativeError> {
        let config = builder_from_lookup(|k| std::env::var(k).ok())?.build_native()?;
        Ok(Self::new(Idme::new(config)))
    }

    /// How the authorization URL is shown (default: the system browser).
    pub fn browser(mut self, browser: BrowserOpener) -> Self {
        self.browser = browser;
        self
    }

    /// How long [`login`](Self::login) waits for the redirect (default 5 minutes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Listens on this port instead of the redirect URI's (or a free one when it has none).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Where the tokens are kept.
    pub fn token_store(mut self, store: impl TokenStore + 'static) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Keeps the tokens in the file at `path` (created `0600`).
    pub fn token_file(self, path: impl Into<std::path::PathBuf>) -> Self {
        self.token_store(FileStore::new(path))
    }

    /// Options of every login (policies, screen, locale…).
    pub fn login_options(mut self, options: LoginOptions) -> Self {
        self.options = options;
        self
    }

    /// The engine.
    pub fn idme(&self) -> &Idme {
        &self.idme
    }

    /// Signs in: listens on the loopback redirect URI, shows the authorization URL, waits
    /// for the redirect, answers the browser, redeems the code with the PKCE verifier and
    /// runs the engine's checks, then stores and returns the session. The listener is
    /// closed whatever happens.
    ///
    /// Only a `GET` of the redirect path with the redirect URI's `Host` and this login's
    /// `state` is the redirect: other requests (another path, a foreign `Host`, a missing
    /// or wrong `state`) are answered with an error page and the wait goes on until the
    /// redirect or the [`timeout`](Self::timeout). The first redirect wins: a later one is
    /// told the sign-in was already answered and never replaces its outcome.
    pub async fn login(&self) -> Result<NativeSession, NativeError> {
        let registered = self.idme.config().redirect_uri().clone();
        let ip = loopback_ip(&registered)?;
        let port = self.port.or(registered.port()).unwrap_or(0);
        let listener = listener::bind(ip, port).await?;
        let mut redirect = registered.clone();
        redirect
            .set_port(Some(listener.port()))
            .map_err(|()| refused(&registered, UrlRule::NoPort))?;

        let clock = self.idme.config().clock();
        let login = self
            .idme
            .start_native_login(redirect.as_str(), &self.options, clock.now())
            .await?;
        let mut server = listener.serve(&redirect, login.pending);
        if let Err(e) = self.browser.open(&login.authorize_url) {
            server.close().await;
            return Err(e);
        }

        let waited = tokio::time::timeout(self.timeout, server.redirect()).await;
        let Redirect {
            mut stream,
            query,
            pending,
        } = match waited {
            Ok(Ok(redirect)) => redirect,
            Ok(Err(e)) => {
                server.close().await;
                return Err(e);
            }
            Err(_) => {
                server.close().await;
                return Err(NativeError::Timeout(self.timeout));
            }
        };
        // The listener keeps answering other requests while the code is redeemed.
        let result = self
            .idme
            .finish_native_login(pending, &query, clock.now())
            .await
            .map_err(NativeError::from);
        server.close().await;
        let page = match &result {
            Ok(_) => (
                200,
                "Signed in. You can close this tab and return to the app.".to_owned(),
            ),
            Err(e) => (400, format!("{e}. You can close this tab.")),
        };
        let _ = listener::respond(&mut stream, page.0, &page.1).await;
        let session = result?;
        self.store.save(&session)?;
        Ok(session)
    }

    /// The stored session, or [`NativeError::NotSignedIn`].
    pub fn session(&self) -> Result<NativeSession, NativeError> {
        self.store.load()?.ok_or(NativeError::NotSignedIn)
    }

    /// Renews the stored session's tokens with its refresh token and stores the result.
    /// ID.me access tokens are single-use: call this for every new call that needs one.
    pub async fn refresh(&self) -> Result<NativeSession, NativeError> {
        let session = self.session()?;
        if !session.has_refresh_token() {
            return Err(NativeError::SessionEnded);
        }
        let now = self.idme.config().clock().now();
        let renewed = self
            .idme
            .refresh_native(&session, now)
            .await
            .map_err(|e| match e {
                idme_core::Error::Unauthenticated(_)
                | idme_core::Error::ProviderRejected { .. } => NativeError::SessionEnded,
                other => other.into(),
            })?;
        self.store.save(&renewed)?;
        Ok(renewed)
    }

    /// Forgets the stored tokens and returns the provider's logout URL (ID.me's, or the
    /// provider's end-session endpoint), to open in the browser to end the session there.
    pub async fn logout(&self) -> Result<Option<String>, NativeError> {
        self.store.clear()?;
        Ok(self.idme.native_logout_url().await)
    }
}

/// The engine's settings for a native app from `IDME_*` variables read through `lookup`
/// ([`IdmeBuilder::from_lookup`](idme_core::IdmeBuilder::from_lookup)): the redirect URI
/// defaults to `http://127.0.0.1/callback`, and with neither `IDME_CLIENT_SECRET` nor
/// `IDME_TOKEN_AUTH` set the client is public (`IDME_TOKEN_AUTH=none`, PKCE).
pub fn builder_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<idme_core::IdmeBuilder, ConfigError> {
    let set = |k: &str| lookup(k).is_some_and(|v| !v.trim().is_empty());
    let public = !set("IDME_CLIENT_SECRET") && !set("IDME_TOKEN_AUTH");
    let mut builder = idme_core::IdmeBuilder::from_lookup(&lookup)?
        .default_redirect_uri("http://127.0.0.1/callback");
    if public {
        builder = builder.token_auth(idme_core::TokenAuthMethod::None);
    }
    Ok(builder)
}

/// The IP literal of a loopback redirect URI (`http://127.0.0.1/…` or `http://[::1]/…`).
fn loopback_ip(uri: &Url) -> Result<IpAddr, NativeError> {
    let ip = match uri.host() {
        Some(Host::Ipv4(ip)) if ip.is_loopback() => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) if ip.is_loopback() => IpAddr::V6(ip),
        _ => return Err(refused(uri, UrlRule::NotLoopback)),
    };
    if uri.scheme() != "http" {
        return Err(refused(uri, UrlRule::LoopbackNotHttp));
    }
    Ok(ip)
}

/// The redirect URI `uri` breaks `rule`.
fn refused(uri: &Url, rule: UrlRule) -> NativeError {
    ConfigError::Url {
        setting: "IDME_REDIRECT_URI",
        url: uri.to_string(),
        rule,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use idme_core::TokenAuthMethod;

    fn config(vars: &[(&str, &str)]) -> Result<idme_core::IdmeConfig, ConfigError> {
        let lookup = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        builder_from_lookup(lookup)?.build_native()
    }

    #[test]
    fn without_a_secret_the_client_is_public() {
        let c = config(&[("IDME_CLIENT_ID", "cid")]).unwrap();
        assert_eq!(c.token_auth(), TokenAuthMethod::None);
        assert!(c.pkce());
        assert_eq!(c.redirect_uri().as_str(), "http://127.0.0.1/callback");
        let c = config(&[("IDME_CLIENT_ID", "cid"), ("IDME_CLIENT_SECRET", "s")]).unwrap();
        assert_eq!(c.token_auth(), TokenAuthMethod::ClientSecretBasic);
        let e = config(&[
            ("IDME_CLIENT_ID", "cid"),
            ("IDME_TOKEN_AUTH", "client_secret_post"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("IDME_TOKEN_AUTH=none"), "{e}");
        assert!(
            matches!(
                e,
                ConfigError::Missing {
                    setting: "IDME_CLIENT_SECRET",
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
