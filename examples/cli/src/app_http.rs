//! The HTTP client of the app commands: reqwest over rustls, timeouts, no redirects
//! followed, every body read up to a bound. The `oauth2` crate's requests go through
//! [`AppHttp::call`].

use std::fmt;
use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};

/// The most an app's answer may weigh (a token response or `/me` is a few KB).
const MAX_BODY: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request to the app did not get an answer.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// Not sent, or no answer (the reqwest error names the URL, never a header or body).
    Send(reqwest::Error),
    /// The answer was larger than [`MAX_BODY`].
    TooLarge,
    /// The answer could not be handed to the OAuth client.
    Build(oauth2::http::Error),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Send(e) if e.is_timeout() => write!(f, "the app did not answer in time"),
            HttpError::Send(e) => write!(f, "cannot reach the app: {e}"),
            HttpError::TooLarge => write!(f, "the app's answer is larger than {MAX_BODY} bytes"),
            HttpError::Build(e) => write!(f, "unusable answer: {e}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// An answer of the app, its body bounded.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// The client.
#[derive(Debug, Clone)]
pub(crate) struct AppHttp {
    client: reqwest::Client,
}

impl AppHttp {
    pub(crate) fn new() -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self { client })
    }

    /// One request of the `oauth2` crate.
    pub(crate) async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request = reqwest::Request::try_from(request).map_err(HttpError::Send)?;
        let answer = self.send(self.client.execute(request)).await?;
        let mut response = oauth2::http::Response::builder().status(answer.status);
        for (name, value) in &answer.headers {
            response = response.header(name, value);
        }
        response.body(answer.body).map_err(HttpError::Build)
    }

    /// `GET url` with `Authorization: Bearer <token>`.
    pub(crate) async fn get_bearer(&self, url: &str, token: &str) -> Result<Answer, HttpError> {
        let request = self
            .client
            .get(url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json");
        self.send(request.send()).await
    }

    /// `POST url` with a form body.
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<Answer, HttpError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let request = self
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        self.send(request.send()).await
    }

    async fn send(
        &self,
        sent: impl Future<Output = reqwest::Result<reqwest::Response>>,
    ) -> Result<Answer, HttpError> {
        let mut response = sent.await.map_err(HttpError::Send)?;
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY as u64)
        {
            return Err(HttpError::TooLarge);
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(HttpError::Send)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}
