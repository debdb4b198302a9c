//! [`AppClients`]: the public clients (devices, native and mobile apps) allowed to ask
//! this application for its own tokens, and the lifetimes of what they are given.

use std::time::Duration;

use url::Url;

use crate::error::Error;

/// One registered public client: its id, and the redirect URIs it may use beside the
/// loopback ones every client may use (RFC 8252 §7.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClient {
    pub(crate) id: String,
    pub(crate) redirect_uris: Vec<String>,
}

impl AppClient {
    /// A client named `id` (e.g. `idme-example-device`).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            redirect_uris: Vec::new(),
        }
    }

    /// Registers a redirect URI for the code flow: a private-use scheme
    /// (`com.example.app:/callback`) or an `https` URI, matched exactly. Loopback URIs
    /// (`http://127.0.0.1:<any port>/…`, `http://[::1]:<any port>/…`) need no registration.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// The client id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The registered (non-loopback) redirect URIs.
    pub fn redirect_uris(&self) -> &[String] {
        &self.redirect_uris
    }
}

/// The app clients of an engine ([`IdmeBuilder::app_clients`](crate::IdmeBuilder::app_clients))
/// and the lifetimes of their codes and tokens. App clients are off unless configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClients {
    pub(crate) clients: Vec<AppClient>,
    pub(crate) device_code_lifetime: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) authorization_code_lifetime: Duration,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) refresh_lifetime: Duration,
}

impl AppClients {
    /// These client ids, without registered redirect URIs, with the default lifetimes:
    /// device code 600 s, poll interval 5 s, authorization code 60 s, access token 600 s,
    /// refresh family 30 days.
    pub fn new<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            clients: ids.into_iter().map(AppClient::new).collect(),
            device_code_lifetime: Duration::from_secs(600),
            poll_interval: Duration::from_secs(5),
            authorization_code_lifetime: Duration::from_secs(60),
            access_token_lifetime: Duration::from_secs(600),
            refresh_lifetime: Duration::from_secs(30 * 24 * 3600),
        }
    }

    /// Adds a client, or replaces the one with its id.
    pub fn client(mut self, client: AppClient) -> Self {
        self.clients.retain(|c| c.id != client.id);
        self.clients.push(client);
        self
    }

    /// How long a device code and its user code may wait for the person (default 600 s).
    pub fn device_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.device_code_lifetime = lifetime;
        self
    }

    /// The least time between two polls of a device (default 5 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long an authorization code may wait for its exchange (default 60 s).
    pub fn authorization_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.authorization_code_lifetime = lifetime;
        self
    }

    /// How long an access token works (default 600 s).
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// How long a grant lives from its first tokens, however often it is refreshed
    /// (default 30 days).
    pub fn refresh_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_lifetime = lifetime;
        self
    }

    /// The registered client `id`, if any.
    pub fn get(&self, id: &str) -> Option<&AppClient> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Every registered client.
    pub fn clients(&self) -> &[AppClient] {
        &self.clients
    }

    /// Parses `IDME_APP_CLIENTS`: comma-separated client ids; an item `id=uri1 uri2`
    /// registers redirect URIs for that client.
    pub fn parse(list: &str) -> Result<Self, Error> {
        let mut clients = Self::new(Vec::<String>::new());
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (id, uris) = item.split_once('=').unwrap_or((item, ""));
            let mut client = AppClient::new(id.trim());
            for uri in uris.split_whitespace() {
                client = client.redirect_uri(uri);
            }
            clients = clients.client(client);
        }
        Ok(clients)
    }

    /// Checks ids, redirect URIs and lifetimes (in [`build`](crate::IdmeBuilder::build)).
    pub(crate) fn check(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::config(format!("app clients: {m}")));
        if self.clients.is_empty() {
            return bad("no client id".into());
        }
        for c in &self.clients {
            if c.id.is_empty()
                || c.id.len() > 128
                || !c.id.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
            {
                return bad(format!(
                    "client id {:?} must be 1-128 visible characters",
                    c.id
                ));
            }
            for uri in &c.redirect_uris {
                let url = Url::parse(uri).map_err(|e| {
                    Error::config(format!("app client {}: redirect URI {uri:?}: {e}", c.id))
                })?;
                if url.fragment().is_some() || url.scheme() == "http" {
                    return bad(format!(
                        "client {}: redirect URI {uri:?} must be https or a private-use scheme, without fragment (loopback needs no registration)",
                        c.id
                    ));
                }
            }
        }
        let secs = |d: Duration| d.as_secs();
        if secs(self.device_code_lifetime) == 0
            || secs(self.poll_interval) == 0
            || secs(self.authorization_code_lifetime) == 0
            || secs(self.access_token_lifetime) == 0
            || secs(self.refresh_lifetime) == 0
        {
            return bad("lifetimes and the poll interval must be at least one second".into());
        }
        if self.authorization_code_lifetime > Duration::from_secs(600) {
            return bad("an authorization code may live 10 minutes at most".into());
        }
        Ok(())
    }
}
