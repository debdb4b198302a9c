//! What the provider did: the endpoint an error came from ([`Endpoint`]), a response that
//! failed a protocol check ([`ProviderMisbehaved`]), and a provider that could not be used
//! ([`ProviderUnavailable`]).

/// The provider endpoint an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// `/.well-known/openid-configuration`.
    Discovery,
    /// The JSON Web Key Set.
    Jwks,
    /// The authorization endpoint (errors delivered on the redirect).
    Authorization,
    /// The token endpoint.
    Token,
    /// The userinfo endpoint.
    Userinfo,
    /// ID.me's `attributes.json` (verification status).
    Attributes,
    /// ID.me's policies endpoint.
    Policies,
}

impl Endpoint {
    /// The endpoint's short name, as its `Display` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Discovery => "discovery",
            Endpoint::Jwks => "jwks",
            Endpoint::Authorization => "authorization",
            Endpoint::Token => "token",
            Endpoint::Userinfo => "userinfo",
            Endpoint::Attributes => "attributes",
            Endpoint::Policies => "policies",
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol check that a provider response failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderMisbehaved {
    /// The token is not a well-formed compact JWS.
    #[error("malformed JWT")]
    MalformedJwt,
    /// The JWS header names an algorithm outside the allow-list (`none` is never allowed).
    #[error("algorithm {0:?} is not allowed")]
    DisallowedAlgorithm(String),
    /// No key in the provider's JWKS matches the token, even after a refetch.
    #[error("no matching signing key in the JWKS")]
    UnknownSigningKey,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `iss` is not the configured issuer.
    #[error("issuer mismatch")]
    IssuerMismatch,
    /// `aud` does not contain this client.
    #[error("audience mismatch")]
    AudienceMismatch,
    /// `azp` is present (or required by several audiences) and is not this client.
    #[error("authorized party (azp) mismatch")]
    AzpMismatch,
    /// A required claim is absent.
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    /// The token expired (beyond the allowed clock skew).
    #[error("token expired")]
    Expired,
    /// `iat` lies in the future (beyond the allowed clock skew).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `max_age` was sent and `auth_time` says the sign-in at the provider is older
    /// (OIDC Core §3.1.2.1).
    #[error("auth_time is older than the max_age sent")]
    AuthTimeTooOld,
    /// `acr_values` were sent and the ID token's `acr` is none of them.
    #[error("acr is not one of the acr_values sent")]
    AcrNotRequested,
    /// The token response's `scope` lacks a policy the configuration requires (IAL2, or a
    /// configured policy when `scope` is returned).
    #[error("granted scope lacks the required policy {0:?}")]
    ScopeNotGranted(String),
    /// `nonce` is absent although one was sent.
    #[error("nonce missing")]
    MissingNonce,
    /// `nonce` differs from the one sent.
    #[error("nonce mismatch")]
    NonceMismatch,
    /// `c_hash` is required for this response type and absent.
    #[error("c_hash missing")]
    MissingCHash,
    /// `c_hash` does not match the authorization code.
    #[error("c_hash mismatch")]
    CHashMismatch,
    /// `at_hash` is required for this response type and absent.
    #[error("at_hash missing")]
    MissingAtHash,
    /// `at_hash` does not match the access token.
    #[error("at_hash mismatch")]
    AtHashMismatch,
    /// The ID token from the token endpoint names another subject than the front-channel one.
    #[error("sub differs between front-channel and token-endpoint ID tokens")]
    SubMismatchInTokenResponse,
    /// The userinfo response names another subject than the ID token.
    #[error("sub differs between ID token and userinfo")]
    SubMismatchInUserinfo,
    /// RFC 9207: the `iss` parameter on the callback is not the configured issuer.
    #[error("iss parameter on the callback does not match the issuer (possible mix-up attack)")]
    CallbackIssuerMismatch,
    /// RFC 9207: the provider advertises the `iss` parameter but the callback lacks it.
    #[error("iss parameter missing on the callback although the provider advertises it")]
    CallbackIssuerMissing,
    /// The callback lacks a parameter its response type requires (`code`, `id_token`, `access_token`).
    #[error("authorization response lacks {0}")]
    MissingResponseParameter(&'static str),
    /// The token endpoint answered 2xx with a body that is not a valid token response.
    #[error("malformed token response")]
    MalformedTokenResponse,
    /// The token endpoint returned a token type other than `Bearer`.
    #[error("unsupported token type")]
    UnsupportedTokenType,
    /// The userinfo response is neither JSON nor a JWT we can verify.
    #[error("malformed userinfo response")]
    MalformedUserinfo,
    /// `attributes.json` is not the shape ID.me documents.
    #[error("malformed attributes.json")]
    MalformedAttributes,
    /// An encrypted token could not be decrypted (wrong key, tampered ciphertext).
    #[error("encrypted response could not be decrypted")]
    DecryptionFailed,
    /// The discovery document is not valid.
    #[error("malformed discovery document")]
    MalformedDiscovery,
    /// The discovery document names another issuer than the configured one.
    #[error("discovery issuer {0:?} differs from the configured issuer")]
    DiscoveryIssuerMismatch(String),
    /// The JWKS is not valid JSON or holds no usable key.
    #[error("malformed JWKS")]
    MalformedJwks,
    /// A back-channel logout token (or its request) breaks a rule of OIDC Back-Channel
    /// Logout 1.0 §2.6; the text names the rule.
    #[error("invalid logout token: {0}")]
    InvalidLogoutToken(&'static str),
    /// An encrypted token (JWE) arrived, but no decryption key is configured: nothing is
    /// decrypted.
    #[error("encrypted token received, but no decryption key is configured")]
    UnexpectedEncryption,
    /// A decryption key is configured, so ID tokens and userinfo must be encrypted; this
    /// one was not (a downgrade).
    #[error("unencrypted {0} although a decryption key is configured (downgrade refused)")]
    NotEncrypted(&'static str),
    /// A signed userinfo response lacks `iss` or names another issuer (OIDC Core §5.3.2).
    #[error("signed userinfo: issuer missing or mismatched")]
    UserinfoIssuerMismatch,
    /// A signed userinfo response lacks `aud` or is not addressed to this client (OIDC
    /// Core §5.3.2).
    #[error("signed userinfo: audience missing or mismatched")]
    UserinfoAudienceMismatch,
}

impl ProviderMisbehaved {
    /// A 2xx answer of a server-to-server endpoint that cannot be read at all: the
    /// provider is at fault, not the browser's request.
    pub(crate) fn is_unreadable_answer(&self) -> bool {
        matches!(
            self,
            ProviderMisbehaved::MalformedDiscovery
                | ProviderMisbehaved::MalformedJwks
                | ProviderMisbehaved::MalformedTokenResponse
                | ProviderMisbehaved::MalformedUserinfo
                | ProviderMisbehaved::MalformedAttributes
        )
    }
}

/// The provider could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderUnavailable {
    /// The call took longer than the configured timeout.
    #[error("{0} endpoint timed out")]
    Timeout(Endpoint),
    /// The call failed at the network level.
    #[error("{endpoint} endpoint unreachable: {message}")]
    Network {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The transport error, without secrets.
        message: String,
    },
    /// The endpoint answered with a failure status and a body that is not an OAuth error.
    #[error("{endpoint} endpoint answered {status}: {body}")]
    Status {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The HTTP status.
        status: u16,
        /// The start of the body (at most 512 bytes, lossily decoded).
        body: String,
    },
    /// The answer's body is longer than the engine accepts from this endpoint; reading
    /// stopped at the limit.
    #[error("{endpoint} endpoint answered more than {limit} bytes")]
    TooLarge {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The answer's `Content-Type` is not one the endpoint's specification allows.
    #[error("{endpoint} endpoint answered content type {content_type:?}")]
    WrongContentType {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The `Content-Type` received (cut to 64 characters; empty when absent).
        content_type: String,
    },
}
