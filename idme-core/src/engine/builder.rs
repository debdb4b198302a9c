//! [`EngineBuilder`]: an engine with extensions or its own HTTP client.

use std::sync::Arc;

use super::Idme;
use crate::config::{ConfigError, IdmeConfig};
use crate::extension::Extension;
use crate::http_client::HttpClient;

/// Builds an [`Idme`] engine from a configuration: the extensions it runs and the HTTP
/// client it calls the provider with. Obtain it with [`Idme::builder`].
///
/// ```no_run
/// # fn demo(config: idme_core::IdmeConfig, extension: impl idme_core::extension::Extension)
/// # -> Result<(), idme_core::Error> {
/// let idme = idme_core::Idme::builder(config).extension(extension).build()?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct EngineBuilder {
    config: IdmeConfig,
    http_client: Option<Arc<dyn HttpClient>>,
    extensions: Vec<Arc<dyn Extension>>,
}

impl std::fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("client_id", &self.config.client_id)
            .field("http_client", &self.http_client.is_some())
            .field("extensions", &self.extensions)
            .finish()
    }
}

impl Idme {
    /// A builder for an engine running `config`: register extensions, or bring an HTTP
    /// client, then [`build`](EngineBuilder::build). Without either, [`Idme::new`] is
    /// the shorthand.
    pub fn builder(config: IdmeConfig) -> EngineBuilder {
        EngineBuilder {
            config,
            http_client: None,
            extensions: Vec::new(),
        }
    }
}

impl EngineBuilder {
    /// Registers an [`Extension`]: a role built on the engine (for example `idme-apps`'
    /// authorization server for devices and native apps), whose routes the adapters mount,
    /// whose bearer tokens `IdmeUser` accepts, and which hears when a person's sessions
    /// end. Extensions are checked by [`build`](Self::build).
    pub fn extension(mut self, extension: impl Extension) -> Self {
        self.extensions.push(Arc::new(extension));
        self
    }

    /// Calls the provider through `client` (the default is reqwest with rustls, with the
    /// `reqwest` feature). Every call is still bounded by the configured timeout.
    pub fn http_client(mut self, client: impl HttpClient) -> Self {
        self.http_client = Some(Arc::new(client));
        self
    }

    /// The engine, once every extension accepted the configuration
    /// ([`Extension::check`]); a refusal is a configuration error naming the extension's
    /// reason. Without the `reqwest` feature, an HTTP client is required.
    pub fn build(self) -> Result<Idme, ConfigError> {
        for extension in &self.extensions {
            extension
                .check(&self.config)
                .map_err(|message| ConfigError::Extension { message })?;
        }
        let client = match self.http_client {
            Some(client) => client,
            None => default_client(&self.config)?,
        };
        Ok(Idme::assemble(self.config, client, self.extensions))
    }
}

#[cfg(feature = "reqwest")]
fn default_client(config: &IdmeConfig) -> Result<Arc<dyn HttpClient>, ConfigError> {
    Ok(Arc::new(crate::http_client::ReqwestClient::new(
        config.http_timeout,
    )))
}

#[cfg(not(feature = "reqwest"))]
fn default_client(_: &IdmeConfig) -> Result<Arc<dyn HttpClient>, ConfigError> {
    Err(ConfigError::Unsupported {
        setting: "http_client",
        rule: "no HTTP client: enable idme-core's `reqwest` feature or give one with EngineBuilder::http_client",
    })
}
