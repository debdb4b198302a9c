//! Hooks for tests and load tests only, behind the `test-util` feature (off by default):
//! they reach into the engine's state in ways no application should.

use crate::cookies::{RequestCookies, SetCookie};
use crate::engine::{Idme, unix_now};
use crate::session::Session;

impl Idme {
    /// For tests of cookie chunking only: the request's (cookie-store) session re-sealed
    /// with one more claim.
    pub fn __reseal_with_claim(
        &self,
        cookies: &RequestCookies,
        name: &str,
        value: &str,
    ) -> Option<Vec<SetCookie>> {
        let config = &self.inner.config;
        let now = unix_now();
        let mut session = Session::from_cookies(config, cookies, now).ok()?;
        session.claims.insert(name.into(), value.into());
        Some(session.to_cookies(config, cookies, now))
    }

    /// For load tests only: how many logins the single-use record holds, and the heap
    /// its keys reserve (bytes).
    pub fn __used_logins(&self) -> (usize, usize) {
        let s = self.inner.used_logins.stats();
        (s.entries, s.heap_bytes)
    }
}
