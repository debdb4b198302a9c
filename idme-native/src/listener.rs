//! The loopback listener (RFC 8252 §7.3). Every connection is served on its own task,
//! with a bounded request size and read time, so an idle or slow one cannot stall the
//! others. Only a `GET` of the redirect path, with the `Host` of the redirect URI and
//! this login's `state` (compared in constant time), is the redirect; anything else is
//! answered with a small page and the wait goes on. The first redirect wins: later
//! requests are told the sign-in was already answered, and never disturb it.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use idme_core::native::PendingNativeLogin;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use url::Url;

use crate::error::NativeError;

/// The most a request head may weigh: an authorization response fits easily.
const MAX_HEAD: usize = 16 * 1024;
/// How long one connection may take to send its request head, or to take its answer.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; further ones wait in the backlog for a free slot.
const MAX_CONNECTIONS: usize = 32;
/// The pause after a failed `accept` (out of file descriptors, say) before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A bound loopback listener.
#[derive(Debug)]
pub(crate) struct Listener {
    listener: TcpListener,
    port: u16,
}

/// Binds `ip:port` (`0`: a free port chosen by the system).
pub(crate) async fn bind(ip: IpAddr, port: u16) -> Result<Listener, NativeError> {
    let listener = TcpListener::bind(SocketAddr::new(ip, port))
        .await
        .map_err(|e| match e.kind() {
            io::ErrorKind::AddrInUse => NativeError::PortInUse(port),
            _ => NativeError::Io(e),
        })?;
    let port = listener.local_addr()?.port();
    Ok(Listener { listener, port })
}

/// The login's redirect: its query, the pending login it matched, and the browser's
/// connection, to answer once the code is redeemed.
#[derive(Debug)]
pub(crate) struct Redirect {
    pub(crate) stream: TcpStream,
    /// The request target's query (`code=…&state=…` or `error=…&state=…`).
    pub(crate) query: String,
    /// The login whose `state` the query carries.
    pub(crate) pending: PendingNativeLogin,
}

/// What a request must be to be the redirect, and the login it hands over (once).
struct Gate {
    path: String,
    /// `Host` values accepted: the redirect URI's authority (and its host alone on port 80).
    hosts: Vec<String>,
    slot: Mutex<Option<(PendingNativeLogin, oneshot::Sender<Redirect>)>>,
}

/// The listener serving connections until [`close`](Server::close) (or drop).
#[derive(Debug)]
pub(crate) struct Server {
    task: JoinHandle<()>,
    redirect: oneshot::Receiver<Redirect>,
}

impl Listener {
    /// The port listened on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Serves connections for the login `pending`, whose redirect comes to `redirect`
    /// (the registered redirect URI with this listener's port).
    pub(crate) fn serve(self, redirect: &Url, pending: PendingNativeLogin) -> Server {
        let host = redirect.host_str().unwrap_or_default();
        let mut hosts = vec![format!("{host}:{}", self.port)];
        if self.port == 80 {
            hosts.push(host.to_owned());
        }
        let (sender, receiver) = oneshot::channel();
        let gate = Arc::new(Gate {
            path: redirect.path().to_owned(),
            hosts,
            slot: Mutex::new(Some((pending, sender))),
        });
        let task = tokio::spawn(accept_loop(self.listener, gate));
        Server {
            task,
            redirect: receiver,
        }
    }
}

impl Server {
    /// Waits for the redirect. Cancel-safe: a timeout around it loses nothing.
    pub(crate) async fn redirect(&mut self) -> Result<Redirect, NativeError> {
        (&mut self.redirect)
            .await
            .map_err(|_| NativeError::Io(io::Error::other("the listener stopped")))
    }

    /// Stops listening and closes every connection still open (but the redirect's).
    pub(crate) async fn close(mut self) {
        self.task.abort();
        // The task owns the listening socket and the connections' tasks: once it is gone,
        // so are they.
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, gate: Arc<Gate>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        if connections.len() >= MAX_CONNECTIONS {
            connections.join_next().await;
            continue;
        }
        match listener.accept().await {
            Ok((stream, _)) => {
                connections.spawn(serve_connection(gate.clone(), stream));
            }
            Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
        }
    }
}

/// Why a request is not the redirect, and how it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Malformed,
    WrongHost,
    OtherPath,
    NotThisLogin,
    AlreadyAnswered,
}

impl Refusal {
    fn page(self) -> (u16, &'static str) {
        match self {
            Refusal::Malformed => (400, "Bad request."),
            Refusal::WrongHost => (421, "This address only serves an app's sign-in."),
            Refusal::OtherPath => (404, "Not found."),
            Refusal::NotThisLogin => (
                400,
                "This page does not belong to the sign-in the app is waiting for. \
                 You can close this tab.",
            ),
            Refusal::AlreadyAnswered => (
                409,
                "This sign-in was already answered. You can close this tab.",
            ),
        }
    }
}

async fn serve_connection(gate: Arc<Gate>, mut stream: TcpStream) {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => return refuse(&mut stream, Refusal::Malformed).await,
        // Nothing (a browser's speculative connection), or not in time: just close.
        Ok(Err(_)) | Err(_) => return,
    };
    match gate.admit(&head) {
        Ok(query) => gate.hand_over(stream, query).await,
        Err(refusal) => refuse(&mut stream, refusal).await,
    }
}

impl Gate {
    /// The query of a request that may be the redirect, or why it is not.
    fn admit(&self, head: &[u8]) -> Result<String, Refusal> {
        let request = parse_head(head).ok_or(Refusal::Malformed)?;
        let [host] = request.hosts.as_slice() else {
            return Err(if request.hosts.is_empty() {
                Refusal::Malformed
            } else {
                Refusal::WrongHost
            });
        };
        if !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return Err(Refusal::WrongHost);
        }
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((request.target, ""));
        if path != self.path {
            return Err(Refusal::OtherPath);
        }
        Ok(query.to_owned())
    }

    /// Hands the connection over as the redirect when its query carries this login's
    /// `state` and no redirect came before; answers it otherwise.
    async fn hand_over(&self, mut stream: TcpStream, query: String) {
        let mut states = url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == "state")
            .map(|(_, v)| v);
        let state = match (states.next(), states.next()) {
            (Some(state), None) => Some(state),
            _ => None,
        };
        let claimed = {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            match slot.as_ref() {
                None => Err(Refusal::AlreadyAnswered),
                Some((pending, _)) if !state.is_some_and(|s| pending.state_matches(&s)) => {
                    Err(Refusal::NotThisLogin)
                }
                Some(_) => slot.take().ok_or(Refusal::AlreadyAnswered),
            }
        };
        match claimed {
            Ok((pending, sender)) => {
                // Refused only when the login stopped waiting (its timeout): the
                // connection then closes unanswered.
                let _ = sender.send(Redirect {
                    stream,
                    query,
                    pending,
                });
            }
            Err(refusal) => refuse(&mut stream, refusal).await,
        }
    }
}

async fn refuse(stream: &mut TcpStream, refusal: Refusal) {
    tracing::debug!(
        ?refusal,
        "loopback listener: a request that is not the redirect"
    );
    let (status, message) = refusal.page();
    let _ = respond(stream, status, message).await;
}

/// A request head's target and its `Host` header values.
struct RequestHead<'a> {
    target: &'a str,
    hosts: Vec<&'a str>,
}

/// Reads a request head (without its final blank line); `None` when it ends early or is
/// too large, an error when the connection fails.
async fn read_head(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end);
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD {
            return Ok(None);
        }
    }
}

/// A `GET` request's target and `Host` values; `None` for anything else.
fn parse_head(head: &[u8]) -> Option<RequestHead<'_>> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let line = std::str::from_utf8(lines.next()?).ok()?;
    let mut words = line.split(' ');
    let target = match (words.next(), words.next(), words.next(), words.next()) {
        (Some("GET"), Some(target), Some(version), None) if version.starts_with("HTTP/1.") => {
            target
        }
        _ => return None,
    };
    let mut hosts = Vec::new();
    for line in lines {
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"host") {
            hosts.push(std::str::from_utf8(value).ok()?.trim_matches([' ', '\t']));
        }
    }
    Some(RequestHead { target, hosts })
}

/// Answers with a small HTML page and closes the connection.
pub(crate) async fn respond(stream: &mut TcpStream, status: u16, message: &str) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        409 => "Conflict",
        421 => "Misdirected Request",
        _ => "Error",
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>ID.me sign-in</title></head>\
         <body><p>{}</p></body></html>",
        escape(message)
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let write = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    tokio::time::timeout(READ_TIMEOUT, write)
        .await
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_get_with_its_host_values() {
        let head =
            b"GET /callback?code=c&state=s HTTP/1.1\r\nHOST:  127.0.0.1:8080 \r\nAccept: */*";
        let request = parse_head(head).unwrap();
        assert_eq!(request.target, "/callback?code=c&state=s");
        assert_eq!(request.hosts, ["127.0.0.1:8080"]);
        let two = b"GET / HTTP/1.1\r\nHost: a\r\nhost: b";
        assert_eq!(parse_head(two).unwrap().hosts, ["a", "b"]);
        assert!(parse_head(b"GET / HTTP/1.0").unwrap().hosts.is_empty());
    }

    #[test]
    fn refuses_other_methods_versions_and_malformed_heads() {
        for head in [
            &b"POST /callback HTTP/1.1\r\nHost: a"[..],
            b"GET /callback HTTP/2\r\nHost: a",
            b"GET /callback\r\nHost: a",
            b"GET  /callback HTTP/1.1\r\nHost: a",
            b"GET /callback HTTP/1.1\r\nno colon here",
            b"GET /callback HTTP/1.1\r\nHost: \xff",
            b"\xffGET /callback HTTP/1.1",
            b"",
        ] {
            assert!(
                parse_head(head).is_none(),
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }
}
