//! The pages the example apps render. Every value is HTML-escaped.

use idme_core::{Group, Idme, IdmeUser, Requirement};

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` escaped for HTML text and attribute values; borrowed when nothing needs escaping
/// (the usual case: no allocation on every page view).
fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;"),
    )
}

/// The public home page: a sign-in link, or who is signed in and a sign-out button.
/// Written into one buffer: it is the page every signed-in request of the benchmarks
/// renders.
pub fn home_page(idme: &Idme, user: Option<&IdmeUser>) -> String {
    let config = idme.config();
    let paths = config.paths();
    let mut page = String::with_capacity(1024);
    page.push_str(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>idme-rs example</title></head><body>",
    );
    // The engine's page notice (set in emulator mode) is shown here too.
    if let Some(n) = config.page_notice() {
        let _ = write!(
            page,
            "<p id=\"page-notice\" role=\"status\"><strong>{}</strong></p>",
            escape(n)
        );
    }
    page.push_str("<h1>idme-rs example</h1>");
    match user {
        Some(u) => {
            let _ = write!(
                page,
                "<p>Signed in as <strong>{name}</strong> (<code>{sub}</code>).</p>\
                 <p><a href=\"/me\">Your claims (JSON)</a> · <a href=\"/verified/military\">Military page</a> · \
                 <a href=\"/verified/veteran\">Veterans page</a></p>",
                name = escape(u.given_name().or(u.email()).unwrap_or("ID.me member")),
                sub = escape(u.sub()),
            );
            if !u.is_verified(Group::Military) {
                let _ = write!(
                    page,
                    "<p>{}</p>",
                    idme_core::button::verify_button(
                        &idme.verify_url(Group::Military, "/verified/military"),
                        Some(Group::Military)
                    )
                );
            }
            let _ = write!(
                page,
                "<form method=\"post\" action=\"{logout}\"><button type=\"submit\">Sign out</button></form>",
                logout = escape(&paths.logout),
            );
        }
        None => {
            let _ = write!(
                page,
                "<p>You are not signed in.</p>\
                 <p><a id=\"sign-in\" href=\"{login}?return_to=/me\">Sign in with ID.me</a></p>",
                login = escape(&paths.login),
            );
        }
    }
    page.push_str("</body></html>");
    page
}

/// The body of `GET /verified/…` for a user who meets `requirement`.
pub fn verified_json(user: &IdmeUser, requirement: &Requirement) -> serde_json::Value {
    let status = user
        .verification()
        .zip(requirement.group())
        .and_then(|(v, g)| v.status(g));
    serde_json::json!({
        "sub": user.sub(),
        "group": requirement.group().map(|g| g.as_str()),
        "verified": true,
        "subgroups": status.map(|s| s.subgroups.clone()).unwrap_or_default(),
    })
}

/// The most seconds since the sign-in `GET /verified/recent` accepts.
pub const RECENT_MAX_AGE: u64 = 300;

/// The body of `GET /verified/recent` (`Fresh<300>`):
/// `{"sub": …, "auth_time": …, "max_age": 300, "recent": true}`.
pub fn recent_json(user: &IdmeUser) -> serde_json::Value {
    serde_json::json!({
        "sub": user.sub(),
        "auth_time": user.auth_time(),
        "max_age": RECENT_MAX_AGE,
        "recent": true,
    })
}

/// The body of `GET /me` (`application/json`): the user with a top-level `sub`, as JSON
/// text serialised once per session.
pub fn me_body(user: &IdmeUser) -> String {
    user.json().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use idme_core::IdmeBuilder;

    fn idme(notice: Option<&str>) -> Idme {
        let mut b = IdmeBuilder::new()
            .client_id("client")
            .client_secret("secret")
            .redirect_uri("http://127.0.0.1:3000/auth/callback");
        if let Some(n) = notice {
            b = b.page_notice(n);
        }
        Idme::new(b.build().expect("a valid config"))
    }

    #[test]
    fn home_page_shows_the_emulator_notice_only_in_emulator_mode() {
        let page = home_page(&idme(Some(crate::EMULATOR_NOTICE)), None);
        assert!(page.contains("id=\"page-notice\""), "{page}");
        assert!(page.contains("Offline emulator"), "{page}");
        let page = home_page(&idme(None), None);
        assert!(!page.contains("page-notice"), "{page}");
    }
}
