//! Checks on the engine's replies that many tests share.

use idme_core::Reply;

/// Whether `reply` signed someone in: a redirect that sets a session cookie.
pub fn signed_in(reply: &Reply) -> bool {
    reply.status == 303 && sets_session(reply)
}

/// Whether `reply` sets (not deletes) a session cookie or one of its chunks.
pub fn sets_session(reply: &Reply) -> bool {
    reply
        .set_cookies
        .iter()
        .any(|c| c.name.contains("idme_session") && c.max_age > 0)
}

/// Whether `reply` deletes the pending-login cookie (`idme_login_*`, `__Host-` prefixed over https).
pub fn clears_pending(reply: &Reply) -> bool {
    reply
        .set_cookies
        .iter()
        .any(|c| c.name.contains("idme_login_") && c.max_age == 0)
}

/// Asserts that a sign-in failed: `status`, `text` in the page, and no session cookie.
///
/// # Panics
/// When any of these does not hold.
pub fn assert_refused(reply: &Reply, status: u16, text: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(
        reply.body.contains(text),
        "expected {text:?} in the page: {}",
        reply.body
    );
    assert!(!sets_session(reply), "no session cookie set by a failure");
}

/// Asserts that a whole login attempt failed: [`assert_refused`] on its reply, and the
/// browser holds no session cookie afterwards.
///
/// # Panics
/// When any of these does not hold.
pub fn assert_attempt_refused(attempt: &super::Attempt, status: u16, text: &str) {
    assert_refused(&attempt.reply, status, text);
    assert!(
        attempt
            .browser
            .names()
            .iter()
            .all(|n| !n.contains("idme_session")),
        "no session after a failed sign-in"
    );
}

/// Whether `reply` signed someone in with a session cookie whose name starts with
/// `session_cookie` (`__Host-idme_session` over https, `idme_session` on loopback http).
pub fn signed_in_as(reply: &Reply, session_cookie: &str) -> bool {
    reply.status == 303
        && reply
            .set_cookies
            .iter()
            .any(|c| c.name.starts_with(session_cookie) && c.max_age > 0)
}
