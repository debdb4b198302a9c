//! [`SetTransmitter`]: a security-event transmitter that is not the emulator, for testing
//! a receiver (RFC 8935 push delivery). It signs Security Event Tokens (RFC 8417) with
//! its own RSA keys, publishes them in its own JWKS (served on a loopback port, or handed
//! to an in-memory HTTP client), rotates them, and posts SETs.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::keys::{self, SigningKey};

/// ID.me's transmitter issuer, the default `iss` (the emulator's too).
pub use crate::events::EVENTS_ISSUER;

/// The RISC event-type URI of `name` (`account-disabled`, `sessions-revoked`, …).
pub fn risc_event(name: &str) -> String {
    format!("https://schemas.openid.net/secevent/risc/event-type/{name}")
}

/// An `iss_sub` Subject Identifier (RFC 9493): `sub` at `iss`.
pub fn iss_sub(iss: &str, sub: &str) -> Value {
    json!({ "format": "iss_sub", "iss": iss, "sub": sub })
}

/// The process-wide key number `i` (0 or 1), generated once: RSA generation is slow.
fn shared_key(i: usize) -> io::Result<Arc<SigningKey>> {
    static KEYS: [OnceLock<Result<Arc<SigningKey>, String>>; 2] =
        [OnceLock::new(), OnceLock::new()];
    KEYS.get(i)
        .ok_or_else(|| io::Error::other("no such key"))?
        .get_or_init(|| {
            SigningKey::generate(Some(&format!("set-transmitter-{}", i + 1)))
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(io::Error::other)
}

struct State {
    /// The keys its JWKS lists.
    published: Vec<Arc<SigningKey>>,
    /// The key it signs with.
    signing: Arc<SigningKey>,
}

/// A transmitter of Security Event Tokens with its own keys and JWKS. Clones share it.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use idme_testkit::set_transmitter::{SetTransmitter, iss_sub, risc_event};
/// let tx = SetTransmitter::new("my-audience")?;
/// let jwks_url = tx.serve().await?; // configure the receiver with it
/// let set = tx.sign(&tx.claims(&risc_event("account-disabled"), iss_sub("https://api.id.me/oidc", "u1"), 1_700_000_000));
/// let (status, _body) = tx.post("http://127.0.0.1:3000/auth/events", &set).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SetTransmitter {
    issuer: String,
    audience: String,
    state: Arc<Mutex<State>>,
    fetches: Arc<AtomicUsize>,
}

impl std::fmt::Debug for SetTransmitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetTransmitter")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl SetTransmitter {
    /// A transmitter with issuer [`EVENTS_ISSUER`] sending to `audience`, signing with
    /// its first key, which its JWKS publishes.
    ///
    /// # Errors
    /// The key cannot be generated.
    pub fn new(audience: &str) -> io::Result<SetTransmitter> {
        let first = shared_key(0)?;
        Ok(SetTransmitter {
            issuer: EVENTS_ISSUER.to_owned(),
            audience: audience.to_owned(),
            state: Arc::new(Mutex::new(State {
                published: vec![Arc::clone(&first)],
                signing: first,
            })),
            fetches: Arc::new(AtomicUsize::new(0)),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts signing with its second key, not yet published: a receiver does not know
    /// its `kid` until [`publish`](Self::publish).
    ///
    /// # Errors
    /// The key cannot be generated.
    pub fn rotate_unpublished(&self) -> io::Result<()> {
        let next = shared_key(1)?;
        self.state().signing = next;
        Ok(())
    }

    /// Publishes the signing key in the JWKS (beside the others).
    pub fn publish(&self) {
        let mut state = self.state();
        let signing = Arc::clone(&state.signing);
        if !state.published.iter().any(|k| k.kid() == signing.kid()) {
            state.published.push(signing);
        }
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .state()
            .published
            .iter()
            .map(|k| k.jwk(false))
            .collect();
        json!({ "keys": keys })
    }

    /// The JWKS as an HTTP answer (for an in-memory HTTP client); counts as a fetch.
    pub fn jwks_response(&self) -> http::Response<Vec<u8>> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let mut response = http::Response::new(self.jwks().to_string().into_bytes());
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Serves the JWKS at `/jwks` on a loopback port and returns its URL.
    ///
    /// # Errors
    /// No loopback port can be bound.
    pub async fn serve(&self) -> io::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/jwks", listener.local_addr()?);
        let me = self.clone();
        let router = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let me = me.clone();
                async move {
                    let (parts, body) = me.jwks_response().into_parts();
                    http::Response::from_parts(parts, axum::body::Body::from(body))
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(url)
    }

    /// The claims of a SET of one event of type `event_uri` about `subject` (the
    /// event's RISC `subject`), issued at `iat`, with a fresh `jti`.
    pub fn claims(&self, event_uri: &str, subject: Value, iat: u64) -> Value {
        json!({
            "iss": self.issuer,
            "aud": self.audience,
            "iat": iat,
            "jti": hex::encode(rand::random::<[u8; 16]>()),
            "events": { event_uri: { "subject": subject } },
        })
    }

    /// `claims` signed RS256 with the signing key, `typ: secevent+jwt`, its `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_typed(Some("secevent+jwt"), claims)
    }

    /// `claims` signed RS256 with the signing key and its `kid`, with `typ` as given
    /// (none when `None`).
    pub fn sign_typed(&self, typ: Option<&str>, claims: &Value) -> String {
        let key = Arc::clone(&self.state().signing);
        keys::sign_typed(claims, &key, typ).unwrap_or_default()
    }

    /// `claims` as an unsecured JWT (`alg: none`, `typ: secevent+jwt`, no signature).
    pub fn unsigned(&self, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"secevent+jwt"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{header}.{payload}.")
    }

    /// Posts `body` to the receiver at `url` as `application/secevent+jwt`: the status and
    /// the body of the answer.
    ///
    /// # Errors
    /// The receiver cannot be reached.
    pub async fn post(&self, url: &str, body: &str) -> io::Result<(u16, String)> {
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/secevent+jwt")
            .body(body.to_owned())
            .send()
            .await
            .map_err(io::Error::other)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(io::Error::other)?;
        Ok((status, text))
    }
}

/// An engine's HTTP client that answers the transmitter's JWKS at `jwks_url` and sends
/// every other request to the emulator in memory: for a
/// [`Pair`](crate::pair::Pair)-style engine
/// ([`second_with_engine`](crate::pair::Pair::second_with_engine)`(…, |e| e.http_client(…))`)
/// that receives security events.
#[cfg(feature = "pair")]
#[derive(Debug, Clone)]
pub struct TransmitterClient {
    transmitter: SetTransmitter,
    jwks_url: String,
    emulator: crate::Emulator,
}

#[cfg(feature = "pair")]
impl SetTransmitter {
    /// The HTTP client serving this transmitter's JWKS at `jwks_url`, and `emulator` for
    /// everything else (see [`TransmitterClient`]).
    pub fn client_with(&self, emulator: &crate::Emulator, jwks_url: &str) -> TransmitterClient {
        TransmitterClient {
            transmitter: self.clone(),
            jwks_url: jwks_url.to_owned(),
            emulator: emulator.clone(),
        }
    }
}

#[cfg(feature = "pair")]
#[idme_core::async_trait]
impl idme_core::http_client::HttpClient for TransmitterClient {
    async fn execute(
        &self,
        request: idme_core::http_client::HttpRequest,
    ) -> Result<idme_core::http_client::HttpResponse, idme_core::http_client::HttpClientError> {
        use idme_core::http_client::{HttpClientError, HttpClientErrorKind};
        if request.uri() == self.jwks_url.as_str() {
            return Ok(self.transmitter.jwks_response());
        }
        let response = self
            .emulator
            .handle(request.map(axum::body::Body::from))
            .await;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20)
            .await
            .map_err(|e| HttpClientError::new(HttpClientErrorKind::Network, e.to_string()))?;
        Ok(http::Response::from_parts(parts, body.to_vec()))
    }
}
