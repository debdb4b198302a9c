//! What the SQL store tests share: a Postgres server, signing in through an engine
//! in-process.

pub(crate) use idme_testkit::pair::sign_in_through as sign_in;

/// The app's redirect URI (never contacted: the tests call the engine themselves).
pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/auth/callback";

/// The Postgres server the tests of this binary share (each test on tables of its own),
/// started on first use; `None` when skipped (`IDME_SKIP_POSTGRES=1`).
pub(crate) mod postgres {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};

    use idme_testkit::PostgresServer;

    /// The shared server. Never dropped: its guard stops it when the process exits.
    pub(crate) fn shared() -> Option<&'static PostgresServer> {
        static SERVER: OnceLock<Option<PostgresServer>> = OnceLock::new();
        SERVER
            .get_or_init(PostgresServer::start_unless_skipped)
            .as_ref()
    }

    /// A namespace no other test of this binary uses.
    pub(crate) fn fresh_namespace() -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed))
    }
}
