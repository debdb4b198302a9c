//! [`Idme`]: the engine every adapter drives. One per application, cheap to clone.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::claims::IdmeUser;
use crate::config::IdmeConfig;
use crate::cookies::RequestCookies;
use crate::error::{Error, Unauthenticated};
use crate::flow::callback::CallbackInput;
use crate::flow::finish::{self, CallbackOutcome};
use crate::flow::pending::UsedLogins;
use crate::flow::start::{self, LoginOptions};
use crate::http_client::HttpClient;
use crate::pages;
use crate::provider::Provider;
use crate::reply::Reply;
use crate::session::Session;
use crate::verification::{Group, Requirement};

/// The ID.me sign-in engine.
///
/// Adapters call, per route:
/// - **inputs**: [`login`](Self::login), [`callback`](Self::callback),
///   [`logout`](Self::logout) — each returns a [`Reply`] to send as it is;
/// - **per request**: [`authenticate`](Self::authenticate) (pure and local: opens the
///   session cookie) and, when it fails, [`unauthenticated`](Self::unauthenticated);
/// - **getters**: [`config`](Self::config).
#[derive(Clone)]
pub struct Idme {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Idme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idme")
            .field("issuer", &self.inner.provider.issuer())
            .field("client_id", &self.inner.config.client_id)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) config: IdmeConfig,
    pub(crate) provider: Provider,
    pub(crate) used_logins: UsedLogins,
}

impl Inner {
    /// The ID token and userinfo signature algorithms accepted: RS256 and ES256 (what ID.me
    /// advertises), plus HS* keyed with the client secret only when configured. Never `none`.
    pub(crate) fn allowed_algorithms(&self) -> Vec<Algorithm> {
        let mut algs = vec![Algorithm::RS256, Algorithm::ES256];
        if self.config.allow_hmac {
            algs.extend([Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]);
        }
        algs
    }

    /// The signed JWT inside a token: decrypted first when it is a JWE.
    pub(crate) fn unwrap_token<'t>(
        &self,
        token: &'t str,
    ) -> Result<std::borrow::Cow<'t, str>, Error> {
        if crate::validate::jwe::is_jwe(token) {
            Ok(std::borrow::Cow::Owned(
                self.config.decryption_keys.decrypt(token)?,
            ))
        } else {
            Ok(std::borrow::Cow::Borrowed(token))
        }
    }

    pub(crate) fn hmac_secret(&self) -> Option<&[u8]> {
        self.config
            .allow_hmac
            .then_some(self.config.client_secret.as_ref())
            .flatten()
            .map(|s| s.secret().as_bytes())
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
                config,
                provider,
                used_logins: UsedLogins::default(),
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
        self.inner.provider.warm_jwks().await?;
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
            unix_now(),
        ) {
            Ok(started) => Reply::redirect(started.url.to_string()).with_cookie(started.cookie),
            Err(e) => {
                let e = Error::config(format!("authorization endpoint is not a URL: {e}"));
                self.failure(&e, "login could not start")
            }
        }
    }

    /// `GET` or `POST` on the callback route: finishes a login. Success is a 303 to the
    /// login's `return_to` with a fresh session cookie; failure is an error page, with no
    /// session; `error=access_denied` is a "sign-in cancelled" page.
    pub async fn callback(&self, input: CallbackInput<'_>, cookies: &RequestCookies) -> Reply {
        let config = &self.inner.config;
        let now = unix_now();
        match finish::run(&self.inner, &input, cookies, now).await {
            CallbackOutcome::RelayPage => pages::relay(&config.paths.callback),
            CallbackOutcome::Done {
                session,
                return_to,
                clear,
            } => {
                tracing::info!(target: "idme::flow", sub = %session.sub, "signed in");
                Reply::redirect(return_to)
                    .with_cookie(clear)
                    .with_cookie(session.to_cookie(config, now))
            }
            CallbackOutcome::Failed { error, clear } => {
                self.failure(&error, "sign-in failed").with_cookies(clear)
            }
        }
    }

    /// `POST` on the logout route: ends the local session and sends the browser to the
    /// provider's logout (ID.me's `/oauth/logout`, or the discovered `end_session_endpoint`),
    /// or to `/` when the provider has none. `origin` is the request's `Origin` header: a
    /// cross-site logout attempt is refused.
    pub async fn logout(&self, cookies: &RequestCookies, origin: Option<&str>) -> Reply {
        let config = &self.inner.config;
        if let Some(origin) = origin
            && origin != config.redirect_uri.origin().ascii_serialization()
        {
            tracing::warn!(target: "idme::logout", origin, "cross-site logout refused");
            return Reply::html(403, "Cross-site logout refused.".into());
        }
        if let Ok(session) = Session::from_cookies(config, cookies, unix_now()) {
            tracing::info!(target: "idme::logout", sub = %session.sub, "signed out");
        }
        let target = match self.inner.provider.metadata().await {
            Ok(meta) => crate::logout::provider_logout_url(config, &meta),
            Err(e) => {
                tracing::warn!(target: "idme::logout", error = %e, "no discovery: local logout only");
                None
            }
        };
        Reply::redirect(target.unwrap_or_else(|| "/".into()))
            .with_cookie(Session::clear_cookie(config))
    }

    /// The signed-in user of a request, from its session cookie: no network, no signature
    /// check, only the AEAD seal, deserialisation and the expiry.
    pub fn authenticate(&self, cookies: &RequestCookies) -> Result<IdmeUser, Unauthenticated> {
        Session::from_cookies(&self.inner.config, cookies, unix_now()).map(IdmeUser::new)
    }

    /// What to answer a request that needs a user but has none: browsers (`Accept:
    /// text/html`) are sent to the login route with `return_to` set to `path_and_query`;
    /// API clients get `401` JSON. A stale session cookie is cleared.
    pub fn unauthenticated(
        &self,
        why: Unauthenticated,
        accept: Option<&str>,
        path_and_query: &str,
    ) -> Reply {
        let config = &self.inner.config;
        let wants_html = accept.is_some_and(|a| a.contains("text/html"));
        let reply = if wants_html {
            let mut url = String::from(&config.paths.login);
            url.push_str("?return_to=");
            url.extend(url::form_urlencoded::byte_serialize(
                crate::flow::sanitize_return_to(Some(path_and_query)).as_bytes(),
            ));
            Reply::redirect(url)
        } else {
            let e = Error::from(why);
            Reply::json(
                401,
                &json!({ "error": e.code(), "message": e.public_message() }),
            )
        };
        match why {
            Unauthenticated::NoSession => reply,
            _ => reply.with_cookie(Session::clear_cookie(config)),
        }
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
        let verify_url = self.verify_url(requirement.group(), path_and_query);
        if accept.is_some_and(|a| a.contains("text/html")) {
            Err(pages::verification_required(requirement, &verify_url))
        } else {
            let subgroup = match requirement {
                Requirement::Subgroup(_, s) => Some(s.as_str()),
                _ => None,
            };
            Err(Reply::json(
                403,
                &json!({
                    "error": "verification_required",
                    "message": format!("This resource is for {} members.", requirement.describe()),
                    "group": requirement.group().as_str(),
                    "subgroup": subgroup,
                    "verify_url": verify_url,
                }),
            ))
        }
    }

    /// The login route asking ID.me to verify `group`, returning to `return_to`.
    pub fn verify_url(&self, group: Group, return_to: &str) -> String {
        let return_to = crate::flow::sanitize_return_to(Some(return_to));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("policy", group.policy().handle())
            .append_pair("return_to", &return_to)
            .finish();
        format!("{}?{query}", self.inner.config.paths.login)
    }

    /// Logs a failure with its details (never a secret) and renders the public page.
    fn failure(&self, error: &Error, what: &str) -> Reply {
        if error.status().is_server_error() {
            tracing::error!(target: "idme::flow", error = %error, "{what}");
        } else {
            tracing::warn!(target: "idme::flow", error = %error, "{what}");
        }
        pages::error(error, &self.inner.config.paths.login)
    }
}
