//! The token, device and revocation endpoints' shared rules: their form bodies, their
//! OAuth JSON answers (`no-store`, never a token in an error) and client authentication.

use idme_core::Reply;

use super::params::Params;

/// An OAuth error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) description: &'static str,
    /// The client tried `Authorization: Basic`: the `401` carries a `Basic` challenge
    /// (RFC 6749 §5.2).
    pub(crate) basic_challenge: bool,
    /// Seconds the client should wait (`Retry-After`, RFC 9110 §10.2.3).
    pub(crate) retry_after: Option<u64>,
}

impl OAuthError {
    pub(crate) const fn new(status: u16, code: &'static str, description: &'static str) -> Self {
        Self {
            status,
            code,
            description,
            basic_challenge: false,
            retry_after: None,
        }
    }

    /// `400 invalid_request`.
    pub(crate) const fn request(description: &'static str) -> Self {
        Self::new(400, "invalid_request", description)
    }

    /// `400 invalid_grant`.
    pub(crate) const fn grant(description: &'static str) -> Self {
        Self::new(400, "invalid_grant", description)
    }

    /// `401 invalid_client`.
    pub(crate) const fn client(description: &'static str) -> Self {
        Self::new(401, "invalid_client", description)
    }

    /// `503 temporarily_unavailable`: the app store is down.
    pub(crate) fn unavailable(e: &idme_core::session::store::StoreError) -> Self {
        tracing::error!(target: "idme::apps", error = %e, "app store unavailable");
        Self::new(
            503,
            "temporarily_unavailable",
            "The service is temporarily unavailable; try again later.",
        )
    }

    /// `429 temporarily_unavailable` with `Retry-After`: this person, client or address
    /// asked too often (OAuth has no error code of its own for a rate limit).
    pub(crate) const fn too_many(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                429,
                "temporarily_unavailable",
                "Too many requests; try again later.",
            )
        }
    }

    /// `503 temporarily_unavailable` with `Retry-After: 1`: a lock this request needs is
    /// held (another instance or request is changing the same grant).
    pub(crate) const fn busy() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(
                503,
                "temporarily_unavailable",
                "The grant is being changed by another request; try again in a moment.",
            )
        }
    }

    /// The JSON answer.
    pub(crate) fn reply(&self) -> Reply {
        /// RFC 6749 §5.2's body, serialized straight from the two codes (no `Value` map).
        #[derive(serde::Serialize)]
        struct Body {
            error: &'static str,
            error_description: &'static str,
        }
        let mut reply = Reply::empty(self.status);
        reply
            .headers
            .push(("content-type", "application/json".into()));
        let body = Body {
            error: self.code,
            error_description: self.description,
        };
        // Two string fields: serializing them cannot fail.
        reply.body = serde_json::to_string(&body).unwrap_or_default();
        let mut reply = no_store(reply);
        if self.basic_challenge {
            reply
                .headers
                .push(("www-authenticate", "Basic realm=\"app clients\"".into()));
        }
        if let Some(seconds) = self.retry_after {
            reply.headers.push(("retry-after", seconds.to_string()));
        }
        reply
    }
}

/// Adds `Pragma: no-cache` beside `Cache-Control: no-store` (RFC 6749 §5.1).
pub(crate) fn no_store(mut reply: Reply) -> Reply {
    reply
        .headers
        .retain(|(k, _)| *k != "cache-control" && *k != "pragma");
    reply.headers.push(("cache-control", "no-store".into()));
    reply.headers.push(("pragma", "no-cache".into()));
    reply
}

/// The parameters of an endpoint's form body; `invalid_request` when it is malformed,
/// repeats a parameter or has too many ([`Params::parse`]).
pub(crate) fn form(body: &[u8]) -> Result<Params<'_>, OAuthError> {
    Params::parse(body).ok_or(OAuthError::request(
        "malformed, repeated or too many parameters",
    ))
}

/// Refuses client authentication: app clients are public (RFC 8252 §8.4), so a
/// `client_secret` or `Authorization: Basic` is an error.
pub(crate) fn public_client_only(
    params: &Params<'_>,
    authorization: Option<&str>,
) -> Result<(), OAuthError> {
    let basic = authorization.is_some_and(|a| {
        a.trim_start()
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("basic "))
    });
    if basic || params.contains("client_secret") {
        return Err(OAuthError {
            basic_challenge: basic,
            ..OAuthError::client(
                "app clients are public: no client secret or client authentication",
            )
        });
    }
    Ok(())
}
