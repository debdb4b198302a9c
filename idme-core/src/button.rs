//! The "Verify with ID.me" button: accessible HTML in ID.me's colours, for pages that ask
//! people to sign in or verify. Plain markup with inline styles, no script, no remote
//! assets, so it works under a strict CSP.

use crate::html::escape;
use crate::verification::Group;

/// ID.me's brand green.
const IDME_GREEN: &str = "#08833D";

/// A link styled as ID.me's button. `href` is usually the login route (with `policy=` to
/// verify a group); `group` tailors the label ("Verify your military status with ID.me").
pub fn verify_button(href: &str, group: Option<Group>) -> String {
    let label = match group {
        Some(g) => format!("Verify your {} status with ID.me", g.label()),
        None => "Verify with ID.me".to_owned(),
    };
    format!(
        "<a class=\"idme-button\" href=\"{href}\" role=\"button\" aria-label=\"{label}\" \
         style=\"display:inline-flex;align-items:center;gap:.5em;min-height:44px;padding:.6em 1.2em;\
         background:{IDME_GREEN};color:#fff;border-radius:4px;font:600 1rem/1.2 system-ui,sans-serif;\
         text-decoration:none\"><span aria-hidden=\"true\" style=\"font-weight:800\">ID.me</span>\
         <span>{label}</span></a>",
        href = escape(href),
        label = escape(&label),
    )
}

/// A link styled as ID.me's sign-in button.
pub fn sign_in_button(href: &str) -> String {
    format!(
        "<a class=\"idme-button\" href=\"{href}\" role=\"button\" \
         style=\"display:inline-flex;align-items:center;gap:.5em;min-height:44px;padding:.6em 1.2em;\
         background:{IDME_GREEN};color:#fff;border-radius:4px;font:600 1rem/1.2 system-ui,sans-serif;\
         text-decoration:none\">Sign in with <span style=\"font-weight:800\">ID.me</span></a>",
        href = escape(href),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_is_accessible_and_escaped() {
        let b = verify_button("/auth/login?policy=military&x=\"", Some(Group::Military));
        assert!(b.contains("aria-label=\"Verify your military status with ID.me\""));
        assert!(b.contains("&amp;x=&quot;"), "{b}");
        assert!(b.contains("min-height:44px"), "touch target");
    }
}
