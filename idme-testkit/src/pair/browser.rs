//! The cookie jar of a [`Pair`](super::Pair)'s browser.

use std::collections::BTreeMap;

use idme_core::{RequestCookies, SetCookie};

/// A browser's cookie jar: what the engine set, sent back on the next request.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    jar: BTreeMap<String, String>,
}

impl Browser {
    /// Keeps the cookies of a response (a deletion removes one).
    pub fn apply(&mut self, set_cookies: &[SetCookie]) {
        for c in set_cookies {
            if c.max_age > 0 {
                self.jar.insert(c.name.clone(), c.value.clone());
            } else {
                self.jar.remove(&c.name);
            }
        }
    }

    /// The cookies it sends.
    pub fn cookies(&self) -> RequestCookies {
        RequestCookies::from_header_values([self.cookie_header().as_str()])
    }

    /// The `Cookie` header it sends (for driving an app through its framework).
    pub fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The value of the cookie `name`, if it holds one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    /// The first cookie whose name starts with `prefix` (name, value).
    pub fn find(&self, prefix: &str) -> Option<(String, String)> {
        self.jar
            .iter()
            .find(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
    }

    /// Sets a cookie as a script or an attacker could.
    pub fn put(&mut self, name: &str, value: &str) {
        self.jar.insert(name.to_owned(), value.to_owned());
    }

    /// Drops every cookie whose name starts with `prefix`.
    pub fn remove(&mut self, prefix: &str) {
        self.jar.retain(|k, _| !k.starts_with(prefix));
    }

    /// The names of the cookies it holds.
    pub fn names(&self) -> Vec<&str> {
        self.jar.keys().map(String::as_str).collect()
    }
}
