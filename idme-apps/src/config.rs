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

/// Where the app clients meet the engine's configuration (the extension's check when the
/// configuration is built), their error is the engine's
/// [`ConfigError::Extension`](idme_core::ConfigError::Extension).
impl From<ConfigError> for idme_core::ConfigError {
    fn from(e: ConfigError) -> Self {
        idme_core::ConfigError::Extension { message: e.0 }
    }
}

/// As the engine's error: a configuration error (`500`, `configuration_error`).
impl From<ConfigError> for idme_core::Error {
    fn from(e: ConfigError) -> Self {
        idme_core::ConfigError::from(e).into()
    }
}

/// What this module's checks return.
type Error = ConfigError;

/// One registered public client: its id, the name shown to people, and the redirect URIs
/// it may use (RFC 8252 §7; loopback ones too, RFC 8252 §7.3: only where registered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClient {
    pub(crate) id: String,
    pub(crate) display_name: Option<String>,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) skip_consent: bool,
}

impl AppClient {
    /// A client named `id` (e.g. `idme-example-device`), without a display name: give it
    /// one with [`display_name`](Self::display_name).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            display_name: None,
            redirect_uris: Vec::new(),
            skip_consent: false,
        }
    }

    /// The name people see on the consent and device pages (e.g. `Living room TV`; 1-64
    /// characters, no control characters). Without one the pages show the client id,
    /// marked as a name this site did not give (and the build logs a warning).
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Registers a redirect URI for the code flow, matched exactly: an `https` URI, a
    /// private-use scheme named as a reverse domain (`com.example.app:/callback`, RFC 8252
    /// §7.1), or a loopback IP literal over plain `http` without a port
    /// (`http://127.0.0.1/callback`, `http://[::1]/callback`), where a request may use
    /// any port but must use this address, path and query (RFC 8252 §7.3). `localhost`,
    /// fragments, user info and other schemes are refused by the build. A client without
    /// redirect URIs uses only the device grant.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Skips the consent page: the signed-in person's `GET /auth/authorize` answers with
    /// the code at once. Only for a client whose redirect URIs are all registered `https`
    /// URIs, which only the app that owns the domain can receive (RFC 8252 §8.6); the
    /// build refuses it for a client that may use loopback or a private-use scheme, which
    /// any program on the person's machine can claim. An earlier approval never skips it.
    pub fn skip_consent(mut self) -> Self {
        self.skip_consent = true;
        self
    }

    /// The client id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the operator gave the client a display name.
    pub fn has_display_name(&self) -> bool {
        self.display_name.is_some()
    }

    /// The name shown to people: the display name, else the client id.
    pub fn display_name_or_id(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.id)
    }

    /// Whether the consent page is skipped ([`skip_consent`](Self::skip_consent)).
    pub fn consent_skipped(&self) -> bool {
        self.skip_consent
    }

    /// The registered redirect URIs.
    pub fn redirect_uris(&self) -> &[String] {
        &self.redirect_uris
    }

    /// Whether `url` is a loopback IP literal over plain `http` (RFC 8252 §7.3; never
    /// `localhost`, §8.3).
    pub(crate) fn is_loopback(url: &Url) -> bool {
        url.scheme() == "http"
            && match url.host() {
                Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
                Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
                _ => false,
            }
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

/// The longest a device code may wait for the person.
const MAX_DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// The longest poll interval.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);
/// The longest an authorization code may wait for its exchange.
const MAX_AUTHORIZATION_CODE_LIFETIME: Duration = Duration::from_secs(600);
/// The longest an access token may work.
const MAX_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// The longest a grant may live.
const MAX_REFRESH_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);
/// The longest display name, in characters.
const MAX_DISPLAY_NAME: usize = 64;
/// Schemes never accepted as a redirect URI's, with a message of their own (a private-use
/// scheme needs a dot anyway, so every other dotless one is refused too).
const REFUSED_SCHEMES: [&str; 14] = [
    "javascript",
    "vbscript",
    "data",
    "file",
    "blob",
    "about",
    "filesystem",
    "view-source",
    "ftp",
    "ws",
    "wss",
    "mailto",
    "tel",
    "sms",
];

impl AppClients {
    /// These client ids, without display names or redirect URIs, with the default
    /// lifetimes: device code 600 s, poll interval 5 s, authorization code 60 s, access
    /// token 600 s, refresh family 7 days (ID.me's own refresh-token lifetime: a grant never
    /// outlives what ID.me allows the web sign-in that made it, unless the operator raises
    /// it), refresh reuse interval 10 s, 10 grants per person and client.
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

    /// How long a device code and its user code may wait for the person (default 600 s,
    /// at most 30 minutes).
    pub fn device_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.device_code_lifetime = lifetime;
        self
    }

    /// The least time between two polls of a device (default 5 s, at most 60 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long an authorization code may wait for its exchange (default 60 s, at most
    /// 10 minutes).
    pub fn authorization_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.authorization_code_lifetime = lifetime;
        self
    }

    /// How long an access token works (default 600 s, at most one day).
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// How long a grant lives from its first tokens, however often it is refreshed
    /// (default 7 days, ID.me's refresh-token lifetime: raise it only knowingly, since the
    /// grant then outlives what ID.me allows the web sign-in that made it; at most 365
    /// days).
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

    /// Parses `IDME_APP_CLIENTS`: comma-separated items
    /// `id [(Display name)] [[skip-consent]] [= uri1 uri2 …]`, for example
    /// `tv (Living room TV), phone (Example app) = com.example.app:/cb http://127.0.0.1/cb`.
    /// The display name (in parentheses, after a space) may hold neither `)` nor `,`; the
    /// `[skip-consent]` mark is [`AppClient::skip_consent`]. Items of the older form
    /// `id` and `id=uri1 uri2` mean what they meant.
    pub fn parse(list: &str) -> Result<Self, Error> {
        let mut clients = Self::new(Vec::<String>::new());
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let client = parse_item(item).map_err(|m| {
                Error::config(format!("IDME_APP_CLIENTS: app client {item:?}: {m}"))
            })?;
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

    /// Checks ids, names, redirect URIs, the consent mark and lifetimes (when the engine's
    /// configuration is built).
    pub fn check(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::config(format!("app clients: {m}")));
        if self.clients.is_empty() {
            return bad("no client id".into());
        }
        for c in &self.clients {
            if let Err(m) = check_client(c) {
                return bad(format!("client {:?}: {m}", c.id));
            }
            if c.display_name.is_none() {
                tracing::warn!(target: "idme::config", client_id = %c.id, "app client without a display name: its consent and device pages show its id; give it one");
            }
        }
        let lifetimes = [
            (
                "the device code lifetime",
                self.device_code_lifetime,
                MAX_DEVICE_CODE_LIFETIME,
            ),
            ("the poll interval", self.poll_interval, MAX_POLL_INTERVAL),
            (
                "the authorization code lifetime",
                self.authorization_code_lifetime,
                MAX_AUTHORIZATION_CODE_LIFETIME,
            ),
            (
                "the access token lifetime",
                self.access_token_lifetime,
                MAX_ACCESS_TOKEN_LIFETIME,
            ),
            (
                "the refresh lifetime",
                self.refresh_lifetime,
                MAX_REFRESH_LIFETIME,
            ),
        ];
        for (what, value, max) in lifetimes {
            if value.as_secs() == 0 {
                return bad(format!("{what} must be at least one second"));
            }
            if value > max {
                return bad(format!("{what} may be {} seconds at most", max.as_secs()));
            }
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

/// One item of `IDME_APP_CLIENTS`.
fn parse_item(item: &str) -> Result<AppClient, String> {
    let id_end = item
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(item.len());
    let (id, mut rest) = item.split_at(id_end);
    if id.contains(['(', ')', '[', ']']) {
        return Err("put a space between the id and its (display name) or [mark]".into());
    }
    let mut client = AppClient::new(id);
    rest = rest.trim_start();
    if let Some(after) = rest.strip_prefix('(') {
        let close = after
            .find(')')
            .ok_or("the display name has no closing parenthesis")?;
        client = client.display_name(after[..close].trim());
        rest = after[close + 1..].trim_start();
    }
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']').ok_or("the mark has no closing bracket")?;
        for mark in after[..close].split_whitespace() {
            match mark {
                "skip-consent" => client = client.skip_consent(),
                other => return Err(format!("unknown mark {other:?} (known: skip-consent)")),
            }
        }
        rest = after[close + 1..].trim_start();
    }
    if let Some(uris) = rest.strip_prefix('=') {
        for uri in uris.split_whitespace() {
            client = client.redirect_uri(uri);
        }
    } else if !rest.is_empty() {
        return Err(format!(
            "unexpected {rest:?} (expected: id (Display name) [skip-consent] = uris)"
        ));
    }
    Ok(client)
}

/// One client's id, display name, redirect URIs and consent mark.
fn check_client(c: &AppClient) -> Result<(), String> {
    if c.id.is_empty()
        || c.id.len() > 128
        || !c.id.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
    {
        return Err("the id must be 1-128 visible characters".into());
    }
    if let Some(name) = &c.display_name
        && (name.trim().is_empty()
            || name.chars().count() > MAX_DISPLAY_NAME
            || name.chars().any(char::is_control))
    {
        return Err(format!(
            "display name {name:?}: 1-{MAX_DISPLAY_NAME} characters, no control characters"
        ));
    }
    let mut all_https = !c.redirect_uris.is_empty();
    for uri in &c.redirect_uris {
        let url = check_redirect_uri(uri).map_err(|m| format!("redirect URI {uri:?}: {m}"))?;
        all_https &= url.scheme() == "https";
    }
    if c.skip_consent && !all_https {
        return Err(
            "skip consent only for a client whose redirect URIs are all https (loopback and private-use schemes can be claimed by any program on the person's machine)"
                .into(),
        );
    }
    Ok(())
}

/// A registered redirect URI, parsed, if it is one a client may register.
fn check_redirect_uri(uri: &str) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|e| e.to_string())?;
    if url.fragment().is_some() {
        return Err("no fragment".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("no user info".into());
    }
    let scheme = url.scheme();
    if REFUSED_SCHEMES.contains(&scheme) {
        return Err(format!("the {scheme}: scheme is never a redirect URI's"));
    }
    match scheme {
        "https" => Ok(url),
        "http" if AppClient::is_loopback(&url) && url.port().is_none() => Ok(url),
        "http" if AppClient::is_loopback(&url) => Err(
            "a loopback redirect URI is registered without a port (a request may use any)".into(),
        ),
        "http" => Err(
            "plain http only for the loopback IP literals 127.0.0.1 and [::1] (not localhost)"
                .into(),
        ),
        _ if scheme.contains('.') => Ok(url),
        _ => Err(
            "a private-use scheme is a reverse domain name, e.g. com.example.app (RFC 8252 §7.1)"
                .into(),
        ),
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
