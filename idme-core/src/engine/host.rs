//! The engine as the [`Host`] of its extensions.

use super::Idme;
use crate::config::IdmeConfig;
use crate::cookies::RequestCookies;
use crate::extension::Host;
use crate::reply::Reply;
use crate::user::{Authenticated, Denied};
use crate::verification::Policy;

#[async_trait::async_trait]
impl Host for Idme {
    fn config(&self) -> &IdmeConfig {
        Idme::config(self)
    }

    async fn authenticate(&self, cookies: &RequestCookies) -> Result<Authenticated, Denied> {
        Idme::authenticate(self, cookies).await
    }

    fn unauthenticated(&self, denied: Denied, accept: Option<&str>, path_and_query: &str) -> Reply {
        Idme::unauthenticated(self, denied, accept, path_and_query)
    }

    fn verify_url_for(&self, policy: &Policy, return_to: &str) -> String {
        Idme::verify_url_for(self, policy, return_to)
    }
}
