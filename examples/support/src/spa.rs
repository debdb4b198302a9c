//! The example single-page app (`GET /spa`, `GET /spa/app.js`) and its API route
//! (`POST /api/action`), which every example serves identically. The page and script are
//! static; the page's CSP allows no inline script and no other origin.

use std::sync::atomic::{AtomicU64, Ordering};

use idme_core::IdmeUser;

/// The page (`GET /spa`).
pub const SPA_PAGE: &str = include_str!("../spa/index.html");
/// The page's script (`GET /spa/app.js`).
pub const SPA_SCRIPT: &str = include_str!("../spa/app.js");
/// The page's `Content-Security-Policy`: scripts, fetches and forms of this origin only.
pub const SPA_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The headers of the page and of the script, besides their content type.
pub const SPA_HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", SPA_CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cache-control", "no-cache"),
];

/// The content type of [`SPA_PAGE`].
pub const SPA_PAGE_TYPE: &str = "text/html; charset=utf-8";
/// The content type of [`SPA_SCRIPT`].
pub const SPA_SCRIPT_TYPE: &str = "text/javascript; charset=utf-8";

/// The actions this process performed (what `POST /api/action` changes).
static ACTIONS: AtomicU64 = AtomicU64::new(0);

/// `POST /api/action` for `user` (behind `IdmeUser`, which refuses a cross-site request):
/// performs the action and answers `{"sub": …, "action": "done", "actions": n}`, `n`
/// counting the actions this process performed.
pub fn action_body(user: &IdmeUser) -> String {
    let actions = ACTIONS.fetch_add(1, Ordering::Relaxed) + 1;
    serde_json::json!({ "sub": user.sub(), "action": "done", "actions": actions }).to_string()
}
