//! What the Redis tests share: signing in through an engine in-process.

pub(crate) use idme_testkit::pair::sign_in_through as sign_in;

/// The app's redirect URI (never contacted: the tests call the engine themselves).
pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/auth/callback";
