//! The plain `Set-Cookie` value the engine hands to adapters.

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SameSite {
    /// Sent on same-site requests and top-level cross-site navigations (GET).
    Lax,
    /// Sent on every request, cross-site POSTs included; requires `Secure`.
    None,
}

/// A cookie for the adapter to set (or clear, with `max_age` 0) on the response.
///
/// Its `Debug` shows the name, the attributes and the value's length, never the value.
#[derive(Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct SetCookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value (sealed; empty when clearing).
    pub value: String,
    /// `Path` attribute.
    pub path: String,
    /// `Max-Age` in seconds; 0 deletes the cookie.
    pub max_age: i64,
    /// `Secure` attribute.
    pub secure: bool,
    /// `SameSite` attribute.
    pub same_site: SameSite,
}

impl std::fmt::Debug for SetCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value is a sealed session or login: a credential, never printed.
        f.debug_struct("SetCookie")
            .field("name", &self.name)
            .field("value_len", &self.value.len())
            .field("path", &self.path)
            .field("max_age", &self.max_age)
            .field("secure", &self.secure)
            .field("same_site", &self.same_site)
            .finish()
    }
}

impl SetCookie {
    /// A deletion for the cookie `name` at `path`.
    pub(crate) fn clear(name: &str, path: &str, secure: bool) -> Self {
        Self {
            name: name.to_owned(),
            value: String::new(),
            path: path.to_owned(),
            max_age: 0,
            secure,
            same_site: SameSite::Lax,
        }
    }

    /// The `Set-Cookie` header value. Every cookie is `HttpOnly`.
    pub fn header_value(&self) -> String {
        let mut s = format!(
            "{}={}; Path={}; Max-Age={}; HttpOnly",
            self.name, self.value, self.path, self.max_age
        );
        if self.secure {
            s.push_str("; Secure");
        }
        s.push_str(match self.same_site {
            SameSite::Lax => "; SameSite=Lax",
            SameSite::None => "; SameSite=None",
        });
        s
    }
}
