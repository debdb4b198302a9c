//! One request to a route of the engine or of an extension, as an adapter reads it: plain
//! values, so that the extension seam can take it without knowing the engine.

use crate::cookies::RequestCookies;

/// One request to a sign-in [`Route`](crate::adapter::Route), as an adapter reads it.
pub struct RouteRequest<'a> {
    /// Whether the method is `POST` (else `GET`).
    pub post: bool,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// The first value of a request header, by its lower-case name.
    pub header: &'a (dyn Fn(&str) -> Option<&'a str> + Sync),
    /// The request's cookies.
    pub cookies: RequestCookies,
    /// The body (a `form_post` callback or a logout token; empty otherwise), bounded by
    /// the adapter.
    pub body: &'a [u8],
    /// The address of the peer the request came from, as the framework knows it (the
    /// connection's, or a forwarding header the framework is configured to trust);
    /// `None` when the framework does not know it. Used for per-address limits and to
    /// show a person where a device asked from.
    pub remote_addr: Option<std::net::IpAddr>,
}

impl std::fmt::Debug for RouteRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteRequest")
            .field("post", &self.post)
            .field("body_len", &self.body.len())
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}
