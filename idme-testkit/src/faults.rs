//! Switches that make the emulator misbehave on purpose.

use std::time::Duration;

/// A deliberate misbehaviour of the emulator, for testing a relying party's defences.
///
/// Set them with [`Emulator::set_faults`](crate::Emulator::set_faults); they apply to every request from then
/// on until replaced or cleared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fault {
    /// id_tokens name another issuer (ID.me's sandbox issuer).
    WrongIssuer,
    /// id_tokens are issued to another audience.
    WrongAudience,
    /// id_tokens carry a nonce other than the one of the authorization request.
    WrongNonce,
    /// id_tokens carry no nonce.
    OmitNonce,
    /// `c_hash` does not match the code.
    WrongCHash,
    /// `c_hash` is left out even where OpenID Connect requires it.
    OmitCHash,
    /// `at_hash` does not match the access token.
    WrongAtHash,
    /// `at_hash` is left out even where OpenID Connect requires it.
    OmitAtHash,
    /// Bytes of the signature of every id_token (front channel and token endpoint) and of every userinfo JWT
    /// are flipped.
    BadSignature,
    /// id_tokens are sent unsigned with `alg: none`.
    AlgNone,
    /// id_tokens expired 10 minutes ago (issued an hour ago).
    Expired,
    /// id_tokens are issued 10 minutes in the future.
    IatInFuture,
    /// id_tokens are signed with a key that the JWKS never publishes (a fixed, unpublished `kid`).
    UnknownKid,
    /// id_tokens carry no `kid` in their JOSE header.
    NoKid,
    /// The userinfo JWT names another subject than the id_token.
    UserinfoWrongSub,
    /// The token endpoint's id_token names another subject than the front-channel one.
    TokenSubMismatch,
    /// The token endpoint answers exactly this status and body (JSON or not).
    TokenError {
        /// HTTP status code (an invalid one becomes 500).
        status: u16,
        /// Raw response body.
        body: String,
    },
    /// The token endpoint waits this long before answering.
    SlowToken(Duration),
    /// The JWKS endpoint waits this long before answering.
    SlowJwks(Duration),
    /// The JWKS endpoint answers 503.
    JwksDown,
    /// The discovery endpoint answers 503.
    DiscoveryDown,
    /// The authorization response has no `iss` even though discovery advertises it.
    OmitIssParameter,
    /// The authorization response's `iss` names another issuer.
    WrongIssParameter,
    /// Userinfo answers a plain JSON object instead of ID.me's string-wrapped JWT.
    PlainJsonUserinfo,
    /// Userinfo answers the JWT with ID.me's extra escaped layer of quotes.
    DoubleQuotedUserinfo,
    /// id_tokens carry an `auth_time` a day old (a stale sign-in, whatever `max_age` asked).
    StaleAuthTime,
    /// id_tokens carry no `auth_time`, even when `max_age` was sent.
    OmitAuthTime,
    /// id_tokens carry an `acr` other than any of the `acr_values` sent.
    WrongAcr,
    /// The token response's `scope` grants only `openid` (every policy asked for is left out).
    NarrowScope,
    /// The token response carries no `scope`.
    OmitScope,
    /// Encrypted responses (see [`Emulator::set_rp_encryption_key`](crate::Emulator::set_rp_encryption_key))
    /// have a byte of their ciphertext flipped.
    TamperedCiphertext,
    /// Signed userinfo names another issuer (ID.me's sandbox).
    UserinfoWrongIssuer,
    /// Signed userinfo is addressed to another client.
    UserinfoWrongAudience,
    /// Signed userinfo carries neither `iss` nor `aud`.
    UserinfoOmitIssAud,
    /// One endpoint fails at the HTTP level, whatever the request.
    Http {
        /// Which endpoint.
        endpoint: HttpEndpoint,
        /// How it fails.
        failure: HttpFailure,
    },
}

/// An endpoint that [`Fault::Http`] breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpEndpoint {
    /// The discovery document.
    Discovery,
    /// The JWKS.
    Jwks,
    /// The token endpoint, for the `authorization_code` grant.
    Token,
    /// The token endpoint, for the `refresh_token` grant.
    Refresh,
    /// Userinfo.
    Userinfo,
    /// `attributes.json`.
    Attributes,
}

/// How an endpoint broken by [`Fault::Http`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpFailure {
    /// Never answers.
    Hang,
    /// Answers 500 with an HTML page.
    ServerError,
    /// Answers 200 with the endpoint's content type and a body that is not what it
    /// should be.
    Garbage,
    /// Answers its real body followed by whitespace without end, as fast as it can
    /// be read: a client that buffers first never finishes.
    Huge,
    /// Answers its real body one byte every 200 ms.
    Trickle,
    /// Drops the connection without a complete answer.
    Reset,
    /// Answers its real body labelled `text/html`.
    WrongContentType,
}

/// A snapshot of the active faults, taken once per request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults(Vec<Fault>);

impl Faults {
    pub(crate) fn new(faults: impl IntoIterator<Item = Fault>) -> Self {
        let mut list: Vec<Fault> = Vec::new();
        for f in faults {
            if !list.contains(&f) {
                list.push(f);
            }
        }
        Faults(list)
    }

    pub(crate) fn has(&self, fault: &Fault) -> bool {
        self.0.contains(fault)
    }

    pub(crate) fn token_error(&self) -> Option<(u16, &str)> {
        self.0.iter().find_map(|f| match f {
            Fault::TokenError { status, body } => Some((*status, body.as_str())),
            _ => None,
        })
    }

    pub(crate) fn slow_token(&self) -> Option<Duration> {
        self.0.iter().find_map(|f| match f {
            Fault::SlowToken(d) => Some(*d),
            _ => None,
        })
    }

    /// How `endpoint` should fail, if a [`Fault::Http`] breaks it.
    pub(crate) fn http_failure(&self, endpoint: HttpEndpoint) -> Option<HttpFailure> {
        self.0.iter().find_map(|f| match f {
            Fault::Http {
                endpoint: e,
                failure,
            } if *e == endpoint => Some(*failure),
            _ => None,
        })
    }

    /// Whether any [`Fault::Http`] is active.
    pub(crate) fn any_http(&self) -> bool {
        self.0.iter().any(|f| matches!(f, Fault::Http { .. }))
    }

    pub(crate) fn slow_jwks(&self) -> Option<Duration> {
        self.0.iter().find_map(|f| match f {
            Fault::SlowJwks(d) => Some(*d),
            _ => None,
        })
    }
}
