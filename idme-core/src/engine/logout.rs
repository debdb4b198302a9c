//! The engine's logouts: the person's (here, or everywhere) and the provider's
//! (OIDC back-channel logout), and what extensions issued that ends with them.

use serde_json::json;
use tracing::Instrument;

use super::Idme;
use super::authenticate;
use crate::cookies::RequestCookies;
use crate::error::{Error, ProviderMisbehaved};
use crate::logout::token::{self as logout_token, LOGOUT_TOKEN_MAX_AGE, LogoutToken};
use crate::metrics::EndReason;
use crate::reply::Reply;
use crate::session::Session;

impl Idme {
    /// `POST` on the logout route: ends the local session and sends the browser to the
    /// provider's logout (ID.me's `/oauth/logout`, or the discovered `end_session_endpoint`),
    /// or to `/` when the provider has none.
    ///
    /// `origin` and `sec_fetch_site` are the request's `Origin` and `Sec-Fetch-Site`
    /// headers. The logout is refused (`403`) unless they show a same-origin request, by
    /// the rule of [`cross_site`](crate::cross_site): `Origin` equal to the application's
    /// origin (or a trusted one), or, without `Origin`, `Sec-Fetch-Site: same-origin` (or
    /// `none`: typed by the user).
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
            .into_reply(false)
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
            .into_reply(false)
    }

    /// The logout of a script (a single-page app's `fetch`), which cannot follow a
    /// redirect to another site: the same checks and effects as [`logout`](Self::logout)
    /// (or [`logout_everywhere`](Self::logout_everywhere)), answered with JSON:
    /// `200 {"signed_out": true, "provider_logout_url": …}` (the provider's logout page to
    /// send the browser to, `null` when the provider has none), or the failure's status
    /// with `{"error": …, "message": …}`. The logout route answers so when the request's
    /// `Sec-Fetch-Mode` says it is not a navigation.
    pub async fn logout_from_script(
        &self,
        cookies: &RequestCookies,
        origin: Option<&str>,
        sec_fetch_site: Option<&str>,
        everywhere: bool,
    ) -> Reply {
        self.end_sessions(cookies, origin, sec_fetch_site, everywhere)
            .await
            .into_reply(true)
    }

    /// The person's logout, in an `idme.logout` span recording its outcome.
    async fn end_sessions(
        &self,
        cookies: &RequestCookies,
        origin: Option<&str>,
        sec_fetch_site: Option<&str>,
        everywhere: bool,
    ) -> LogoutOutcome {
        let kind = if everywhere {
            EndReason::LogoutEverywhere
        } else {
            EndReason::Logout
        };
        let span = crate::trace::logout(kind.as_str());
        let outcome = self
            .end_sessions_now(cookies, origin, sec_fetch_site, everywhere)
            .instrument(span.clone())
            .await;
        let (label, ok) = match &outcome {
            LogoutOutcome::CrossSite => ("cross_site", false),
            LogoutOutcome::Failed(_) => ("failed", false),
            LogoutOutcome::SignedOut { .. } => ("signed_out", true),
        };
        crate::trace::outcome(&span, label, ok);
        outcome
    }

    async fn end_sessions_now(
        &self,
        cookies: &RequestCookies,
        origin: Option<&str>,
        sec_fetch_site: Option<&str>,
        everywhere: bool,
    ) -> LogoutOutcome {
        let config = &self.inner.config;
        let provenance = crate::cross_site::Provenance {
            origin,
            sec_fetch_site,
        };
        if !config.site_origins.allows(provenance) {
            tracing::warn!(target: "idme::logout", origin, sec_fetch_site, "logout refused: not a same-origin request");
            return LogoutOutcome::CrossSite;
        }
        let now = self.inner.config.clock.now();
        let mut id_token_hint = None;
        match authenticate::load(&self.inner, cookies, now).await {
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
                if let Err(e) = end_in_extensions(self, ended).await {
                    tracing::error!(target: "idme::logout", error = %e, "logout failed: what extensions issued through the session could not be ended; the session is kept");
                    return LogoutOutcome::Failed(self.failure(&Error::from(e), "sign-out failed"));
                }
                authenticate::forget(&self.inner, &session, now).await;
                if everywhere
                    && let Err(e) =
                        authenticate::forget_person(&self.inner, &session.sub, now).await
                {
                    tracing::error!(target: "idme::logout", error = %e, "sign-out everywhere failed: the person's other sessions could not be ended");
                    return LogoutOutcome::Failed(self.failure(&Error::from(e), "sign-out failed"));
                }
                crate::metrics::sessions_ended(if everywhere {
                    EndReason::LogoutEverywhere
                } else {
                    EndReason::Logout
                });
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
        LogoutOutcome::SignedOut {
            provider_logout_url: target,
            clear: Session::clear_cookies(config, cookies),
        }
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
        let span = crate::trace::logout(EndReason::Backchannel.as_str());
        let result = self
            .end_sessions_for_logout_token(content_type, body)
            .instrument(span.clone())
            .await;
        match &result {
            Ok(_) => {
                crate::metrics::sessions_ended(EndReason::Backchannel);
                crate::trace::outcome(&span, "ended", true);
            }
            Err(Error::SessionStoreUnavailable(_)) => {
                crate::trace::outcome(&span, "store_unavailable", false)
            }
            Err(_) => crate::trace::outcome(&span, "refused", false),
        }
        match result {
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
        end_in_extensions(self, of_the_person).await?;
        // Only now: a retry after a failed deletion is not a replay.
        inner
            .sessions
            .record_jti(jti, iat + LOGOUT_TOKEN_MAX_AGE + 2 * skew + 1, now);
        Ok(ended)
    }
}

/// Tells every extension that sessions ended, trying each once more after a failure (a
/// store's brief hiccup); the first lasting failure is returned, after the others were told.
pub(super) async fn end_in_extensions(
    idme: &Idme,
    ended: crate::extension::SessionsEnded<'_>,
) -> Result<(), crate::store::StoreError> {
    let mut failure = None;
    for extension in &idme.inner.extensions {
        let first = extension.sessions_ended(idme, ended).await;
        if let Err(e) = first {
            tracing::warn!(target: "idme::logout", error = %e, "ending an extension's grants failed; trying once more");
            if let Err(e) = extension.sessions_ended(idme, ended).await {
                failure.get_or_insert(e);
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

/// How a person's logout went.
enum LogoutOutcome {
    /// Refused: not a same-origin request.
    CrossSite,
    /// Failed (the answer says why); the session is kept.
    Failed(Reply),
    /// Signed out: the cookies that clear the session, and the provider's logout page.
    SignedOut {
        provider_logout_url: Option<String>,
        clear: Vec<crate::cookies::SetCookie>,
    },
}

impl LogoutOutcome {
    /// The answer: for a browser's navigation a redirect (to the provider's logout page,
    /// else `/`) and pages; for a script JSON.
    fn into_reply(self, script: bool) -> Reply {
        match (self, script) {
            (LogoutOutcome::CrossSite, false) => {
                Reply::html(403, "Cross-site logout refused.".into())
            }
            (LogoutOutcome::CrossSite, true) => Reply::json(
                403,
                &json!({
                    "error": "cross_site_request",
                    "message": "Cross-site logout refused.",
                }),
            ),
            (LogoutOutcome::Failed(reply), false) => reply,
            (LogoutOutcome::Failed(reply), true) => Reply::json(
                reply.status,
                &json!({
                    "error": "logout_failed",
                    "message": "Sign-out failed: try again in a minute.",
                }),
            ),
            (
                LogoutOutcome::SignedOut {
                    provider_logout_url,
                    clear,
                },
                false,
            ) => Reply::redirect(provider_logout_url.unwrap_or_else(|| "/".into()))
                .with_cookies(clear),
            (
                LogoutOutcome::SignedOut {
                    provider_logout_url,
                    clear,
                },
                true,
            ) => Reply::json(
                200,
                &json!({ "signed_out": true, "provider_logout_url": provider_logout_url }),
            )
            .with_cookies(clear),
        }
    }
}
