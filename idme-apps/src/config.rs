//! [`AppClients`]: the public clients (devices, native and mobile apps) allowed to ask
//! this application for its own tokens, and the lifetimes of what they are given.

use std::time::Duration;

use url::Url;

/// A setting of the app clients that cannot work, named in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl ConfigError {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// What this module's checks return.
type Error = ConfigError;

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

/// The app clients of an [`AppServer`](crate::AppServer)
/// and the lifetimes of their codes and tokens. App clients are off unless configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClients {
    pub(crate) clients: Vec<AppClient>,
    pub(crate) device_code_lifetime: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) authorization_code_lifetime: Duration,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) refresh_lifetime: Duration,
    pub(crate) refresh_reuse_interval: Duration,
    pub(crate) max_grants_per_client: usize,
}

impl AppClients {
    /// These client ids, without registered redirect URIs, with the default lifetimes:
    /// device code 600 s, poll interval 5 s, authorization code 60 s, access token 600 s,
    /// refresh family 7 days (ID.me's own refresh-token lifetime: a grant never outlives what
    /// ID.me allows the web sign-in that made it, unless the operator raises it), refresh
    /// reuse interval 10 s, 10 grants per person and client.
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
            refresh_lifetime: Duration::from_secs(7 * 24 * 3600),
            refresh_reuse_interval: Duration::from_secs(10),
            max_grants_per_client: 10,
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
    /// (default 7 days, ID.me's refresh-token lifetime: raise it only knowingly, since the
    /// grant then outlives what ID.me allows the web sign-in that made it).
    pub fn refresh_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_lifetime = lifetime;
        self
    }

    /// How long after a rotation the refresh token it replaced may come back from the
    /// same client and get the same new tokens again, instead of counting as reuse and
    /// revoking the grant (default 10 s, at most 60 s; zero: never). A client whose
    /// response was lost retries with the token it still has; past this, or once the new
    /// refresh token was used, the old one is reuse (RFC 9700 §4.14.2).
    pub fn refresh_reuse_interval(mut self, interval: Duration) -> Self {
        self.refresh_reuse_interval = interval;
        self
    }

    /// How many live grants a person may hold per client (default 10, at least 1): a
    /// new one past it revokes the person's oldest grant of that client.
    pub fn max_grants_per_client(mut self, max: usize) -> Self {
        self.max_grants_per_client = max;
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

    /// `IDME_APP_CLIENTS`, if set: see [`parse`](Self::parse).
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        match std::env::var("IDME_APP_CLIENTS") {
            Ok(list) if !list.trim().is_empty() => Self::parse(&list).map(Some),
            _ => Ok(None),
        }
    }

    /// Checks ids, redirect URIs and lifetimes (when the engine's configuration is built).
    pub fn check(&self) -> Result<(), Error> {
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
        if self.refresh_reuse_interval > Duration::from_secs(60) {
            return bad("the refresh reuse interval may be 60 seconds at most".into());
        }
        if !(1..=1000).contains(&self.max_grants_per_client) {
            return bad("a person may hold 1 to 1000 grants per client".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idme_app_clients_names_clients_and_their_redirect_uris() {
        let clients =
            AppClients::parse(" tv , phone=com.example.app:/cb https://app.example/native ,")
                .unwrap();
        clients.check().unwrap();
        assert_eq!(clients.clients().len(), 2);
        assert!(clients.get("tv").unwrap().redirect_uris().is_empty());
        assert_eq!(
            clients.get("phone").unwrap().redirect_uris(),
            ["com.example.app:/cb", "https://app.example/native"]
        );
    }

    #[test]
    fn bad_app_client_settings_stop_the_build() {
        for bad in [
            ",",
            "tv=http://example.com/cb",
            "tv=com.example.app:/cb#f",
            "tv=not a uri",
            "a\"b",
        ] {
            let e = AppClients::parse(bad).and_then(|c| c.check()).unwrap_err();
            assert!(e.to_string().contains("app client"), "{bad}: {e}");
        }
        let zero = AppClients::new(["tv"]).access_token_lifetime(Duration::ZERO);
        assert!(zero.check().is_err());
        let long = AppClients::new(["tv"]).refresh_reuse_interval(Duration::from_secs(61));
        assert!(long.check().is_err());
        let none = AppClients::new(["tv"]).max_grants_per_client(0);
        assert!(none.check().is_err());
    }

    #[test]
    fn a_grant_lives_seven_days_by_default() {
        assert_eq!(
            AppClients::new(["tv"]).refresh_lifetime,
            Duration::from_secs(7 * 24 * 3600)
        );
    }
}
