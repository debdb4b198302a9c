//! The loopback listener (RFC 8252 §7.3): one authorization response at the redirect path,
//! read with bounded sizes and times, answered with a small page; then closed.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::error::NativeError;

/// The most a request head may weigh: an authorization response fits easily.
const MAX_HEAD: usize = 16 * 1024;
/// How long one connection may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound loopback listener.
#[derive(Debug)]
pub(crate) struct Listener {
    listener: TcpListener,
    port: u16,
}

/// The authorization response's request, with the connection to answer on.
#[derive(Debug)]
pub(crate) struct Callback {
    pub(crate) stream: TcpStream,
    /// The request target's query (`code=…&state=…`), possibly empty.
    pub(crate) query: String,
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

impl Listener {
    /// The port listened on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Waits for the first `GET` at `path`. Other requests (a browser's `/favicon.ico`) are
    /// answered `404` and do not count; a connection that sends nothing is dropped.
    pub(crate) async fn next_callback(&self, path: &str) -> Result<Callback, NativeError> {
        loop {
            let (mut stream, _) = self.listener.accept().await?;
            let target = match read_target(&mut stream).await {
                Ok(Some(target)) => target,
                Ok(None) | Err(_) => {
                    let _ = respond(&mut stream, 400, "Bad request.").await;
                    continue;
                }
            };
            let (target_path, query) = target.split_once('?').unwrap_or((&target, ""));
            if target_path == path {
                let query = query.to_owned();
                return Ok(Callback { stream, query });
            }
            let _ = respond(&mut stream, 404, "Not found.").await;
        }
    }

    /// Keeps the port busy while the first response is redeemed: every further request is
    /// answered `409`, and one carrying an authorization response raises the flag.
    pub(crate) fn refuse_others(self, path: String) -> Refuser {
        let second = Arc::new(AtomicBool::new(false));
        let flag = second.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = self.listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let flag = flag.clone();
                let path = path.clone();
                tokio::spawn(async move {
                    if let Ok(Some(target)) = read_target(&mut stream).await {
                        let (p, query) = target.split_once('?').unwrap_or((&target, ""));
                        if p == path && !query.is_empty() {
                            flag.store(true, Ordering::SeqCst);
                        }
                    }
                    let _ = respond(
                        &mut stream,
                        409,
                        "This sign-in was already answered. You can close this tab.",
                    )
                    .await;
                });
            }
        });
        Refuser { task, second }
    }
}

/// The listener after the first response arrived.
#[derive(Debug)]
pub(crate) struct Refuser {
    task: JoinHandle<()>,
    second: Arc<AtomicBool>,
}

impl Refuser {
    /// Closes the listener; whether a second authorization response arrived meanwhile.
    pub(crate) async fn close(self) -> bool {
        self.task.abort();
        // The task owns the listener: once it is gone, so is the socket.
        let _ = self.task.await;
        self.second.load(Ordering::SeqCst)
    }
}

/// Reads a request head and returns a `GET` request's target; `None` for anything else.
async fn read_target(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let read = async {
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok::<bool, io::Error>(false);
            }
            head.extend_from_slice(&buf[..n]);
            if head.windows(4).any(|w| w == b"\r\n\r\n") {
                return Ok(true);
            }
            if head.len() > MAX_HEAD {
                return Ok(false);
            }
        }
    };
    match tokio::time::timeout(READ_TIMEOUT, read).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) | Err(_) => return Ok(None),
        Ok(Err(e)) => return Err(e),
    }
    let line_end = head.iter().position(|&b| b == b'\r').unwrap_or(head.len());
    let Ok(line) = std::str::from_utf8(&head[..line_end]) else {
        return Ok(None);
    };
    let mut words = line.split(' ');
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some("GET"), Some(target), Some(version), None) if version.starts_with("HTTP/1.") => {
            Ok(Some(target.to_owned()))
        }
        _ => Ok(None),
    }
}

/// Answers with a small HTML page and closes the connection.
pub(crate) async fn respond(stream: &mut TcpStream, status: u16, message: &str) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        409 => "Conflict",
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
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
