//! How an emulator is set up.

use std::net::{Ipv4Addr, SocketAddr};

use crate::persona::Persona;
use crate::util::random_hex;

/// Name of the environment variable read by [`EmulatorConfig::from_env_user`].
pub(crate) const USER_ENV: &str = "IDME_TESTKIT_USER";

/// Configuration of an [`Emulator`](crate::Emulator).
///
/// Build it with struct update syntax:
///
/// ```
/// use idme_testkit::{EmulatorConfig, Persona};
/// let config = EmulatorConfig {
///     redirect_uris: vec!["http://127.0.0.1:3000/auth/callback".into()],
///     auto_user: Some(Persona::Veteran),
///     ..Default::default()
/// };
/// assert!(config.client_id.starts_with("testkit-client-"));
/// ```
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; default `127.0.0.1:0` (a free loopback port).
    pub bind: SocketAddr,
    /// The one registered client's id; default `testkit-client-<random hex>`.
    pub client_id: String,
    /// The client's secret; default 32 random bytes in hex.
    pub client_secret: String,
    /// Registered redirect URIs, matched exactly as strings. Authorization requests are refused until at least
    /// one is registered (here or with [`Emulator::add_redirect_uri`](crate::Emulator::add_redirect_uri)).
    pub redirect_uris: Vec<String>,
    /// When set, the authorization endpoint answers at once as this persona without showing a sign-in page.
    pub auto_user: Option<Persona>,
    /// RFC 9207: discovery says `authorization_response_iss_parameter_supported: true` and every authorization
    /// response carries `iss`. Default `true`.
    pub advertise_iss_parameter: bool,
    /// Serve the JWKS in ID.me's quirky recorded shape (`"algorithm"` instead of `"alg"`, padded
    /// standard-base64 `x5t`, an `x5c` entry containing a line break). Default `false`.
    pub jwks_quirks: bool,
    /// An access token works for exactly one userinfo or attributes call, as ID.me documents. Default `true`.
    pub single_use_access_tokens: bool,
    /// The policies (scope handles) ID.me has enabled for the client, as the policies endpoint lists them.
    /// Default: the common communities, `login` and IAL2.
    pub enabled_policies: Vec<String>,
    /// The RP's public key: ID tokens and userinfo are encrypted to it when set. Default `None`.
    pub rp_encryption_key: Option<crate::RpEncryptionKey>,
    /// The client is public (a desktop or command-line app, RFC 8252): it has no secret,
    /// sends only `client_id` at the token endpoint (`token_endpoint_auth_method=none`),
    /// and must use PKCE S256. Default `false` (a confidential client with a secret).
    pub public_client: bool,
    /// Where [`Emulator::send_security_event`](crate::Emulator::send_security_event)
    /// delivers security events, as a relying party registers it with ID.me. Default `None`
    /// (also settable with [`Emulator::set_events_receiver`](crate::Emulator::set_events_receiver)).
    pub events_receiver: Option<crate::EventsReceiver>,
    /// Discovery names the emulator's `end_session_endpoint` (`/oauth/logout`), so an engine
    /// does RP-initiated logout through it and keeps the ID token for `id_token_hint`.
    /// Default `false`: ID.me's own discovery names none, and a session is then the size a
    /// production session is. (The endpoint answers either way.)
    pub end_session_endpoint: bool,
}

/// The policies enabled by default.
const DEFAULT_POLICIES: &[&str] = &[
    "military",
    "student",
    "teacher",
    "responder",
    "nurse",
    "government",
    "login",
    "http://idmanagement.gov/ns/assurance/ial/2/aal/2",
];

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            client_id: format!("testkit-client-{}", random_hex(6)),
            client_secret: random_hex(32),
            redirect_uris: Vec::new(),
            auto_user: None,
            advertise_iss_parameter: true,
            jwks_quirks: false,
            single_use_access_tokens: true,
            enabled_policies: DEFAULT_POLICIES.iter().map(|p| (*p).to_owned()).collect(),
            rp_encryption_key: None,
            public_client: false,
            events_receiver: None,
            end_session_endpoint: false,
        }
    }
}

impl EmulatorConfig {
    /// Reads the persona to sign in automatically from `IDME_TESTKIT_USER` (`unverified`, `veteran`,
    /// `student`, `teacher`).
    ///
    /// Returns `None` when the variable is unset or empty, and also for an unknown value (logged as a
    /// warning).
    pub fn from_env_user() -> Option<Persona> {
        let value = std::env::var(USER_ENV).ok()?;
        if value.trim().is_empty() {
            return None;
        }
        let persona = Persona::parse(&value);
        if persona.is_none() {
            tracing::warn!(
                value = %value,
                "{USER_ENV} names no known persona (expected one of unverified, veteran, student, teacher); ignoring it"
            );
        }
        persona
    }
}
