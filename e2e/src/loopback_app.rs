//! A native app on a loopback redirect (RFC 8252 §7.3), as a local program makes one with
//! the `oauth2` crate: what the relay and consent scenarios drive.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, TokenUrl,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use url::Url;

use crate::apps::DEVICE_CLIENT;

/// The example's native client as a local program makes it with the `oauth2` crate.
pub type NativeClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A native app about to sign in through the code + PKCE relay (RFC 8252): its client,
/// its loopback redirect (port and URI), the authorization URL it opens, its `state` and
/// PKCE verifier, and its listener already waiting for the one redirect.
#[derive(Debug)]
pub struct LoopbackApp {
    /// The `oauth2` client, for the code exchange.
    pub client: NativeClient,
    /// The listener's port.
    pub port: u16,
    /// `http://127.0.0.1:<port>/callback`.
    pub redirect: String,
    /// The authorization URL to open.
    pub url: Url,
    /// The request's `state`.
    pub state: CsrfToken,
    /// The PKCE verifier of the request's challenge.
    pub verifier: PkceCodeVerifier,
    /// The listener: ends with the URL the browser came back to ([`one_redirect`]).
    pub came_back: tokio::task::JoinHandle<Url>,
}

impl LoopbackApp {
    /// The example's native client on a fresh loopback port, asking the app at `base`.
    pub async fn start(base: &str) -> LoopbackApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("bound").port();
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let client = BasicClient::new(ClientId::new(DEVICE_CLIENT.to_owned()))
            .set_auth_uri(AuthUrl::new(format!("{base}/auth/authorize")).expect("a URL"))
            .set_token_uri(TokenUrl::new(format!("{base}/auth/token")).expect("a URL"))
            .set_redirect_uri(RedirectUrl::new(redirect.clone()).expect("a URL"));
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .url();
        let came_back = tokio::spawn(one_redirect(listener));
        LoopbackApp {
            client,
            port,
            redirect,
            url,
            state,
            verifier,
            came_back,
        }
    }
}

/// Accepts one request on `listener` (an app's loopback redirect), answers a small page
/// (`signed in`), and returns the request's URL.
pub async fn one_redirect(listener: tokio::net::TcpListener) -> Url {
    let (mut socket, _) = listener.accept().await.expect("the browser comes back");
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await.expect("the request");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let target = text.split(' ').nth(1).unwrap_or_default().to_owned();
    let body = "signed in";
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(reply.as_bytes()).await;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    Url::parse(&format!("http://127.0.0.1:{port}{target}")).expect("a request target")
}
