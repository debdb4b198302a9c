//! What the SQL store tests share: a Postgres server, signing in through an engine
//! in-process.

use idme_core::{CallbackInput, Idme, RequestCookies};
use idme_testkit::browser::Browser;

/// The app's redirect URI (never contacted: the tests call the engine themselves).
pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/auth/callback";

/// The cookies `set` leaves in a browser, as a request's `Cookie` header.
pub(crate) fn header_of(set: &[idme_core::SetCookie]) -> RequestCookies {
    let header = set
        .iter()
        .filter(|c| c.max_age > 0)
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    RequestCookies::from_header_values([header.as_str()])
}

/// Signs in through the engine in-process (the emulator answers as `Veteran` at once);
/// returns the session's cookies.
pub(crate) async fn sign_in(idme: &Idme) -> RequestCookies {
    let start = idme.login(None).await;
    assert_eq!(start.status, 303);
    let pending = header_of(&start.set_cookies);
    let at_provider = Browser::api_client()
        .get(start.header("location").unwrap())
        .await;
    let back = at_provider.location().expect("the emulator redirects back");
    let done = idme
        .callback(CallbackInput::get(back.query()), &pending)
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    header_of(&done.set_cookies)
}

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
