//! The person's pages for app clients: typing a device's code, confirming it, the
//! outcome, and a refused native sign-in. Every value is escaped; no script (the strict
//! CSP of the engine's other pages).

use idme_core::Reply;
use idme_core::html::escape;
use idme_core::html::page;

/// The form to type a device's code (a `GET` to `action`), with `message` above it.
pub(crate) fn code_form(
    notice: Option<&str>,
    status: u16,
    action: &str,
    message: Option<&str>,
    prefill: &str,
) -> Reply {
    let message = message.map_or_else(String::new, |m| {
        format!("<p id=\"message\" role=\"alert\">{}</p>", escape(m))
    });
    let body = format!(
        "<h1>Connect a device</h1>{message}\
         <form method=\"get\" action=\"{action}\">\
         <label for=\"user_code\">Enter the code shown on your device</label> \
         <input id=\"user_code\" name=\"user_code\" value=\"{prefill}\" autocomplete=\"off\" \
         autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"16\" required> \
         <button type=\"submit\">Continue</button></form>",
        action = escape(action),
        prefill = escape(prefill),
    );
    Reply::html(status, page(notice, "Connect a device", &body))
}

/// What the person confirms: which client, which policies, which code.
pub(crate) struct Confirm<'a> {
    pub(crate) action: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) scope: &'a [String],
    pub(crate) shown_code: &'a str,
    pub(crate) user_code: &'a str,
    pub(crate) csrf: &'a str,
}

/// The confirmation page: one form posting `user_code`, `csrf` and `decision`.
pub(crate) fn confirm(notice: Option<&str>, c: &Confirm<'_>) -> Reply {
    let policies = if c.scope.is_empty() {
        "<p>It asks for your identity only.</p>".to_owned()
    } else {
        let items: String = c
            .scope
            .iter()
            .map(|p| format!("<li>{}</li>", escape(p)))
            .collect();
        format!("<p>It asks for what ID.me verified about you:</p><ul id=\"policies\">{items}</ul>")
    };
    let body = format!(
        "<h1>Connect a device</h1>\
         <p><strong id=\"client\">{client}</strong> wants to act as you.</p>{policies}\
         <p>Check that your device shows this code: <strong id=\"code\">{shown}</strong></p>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"user_code\" value=\"{code}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        client = escape(c.client_id),
        shown = escape(c.shown_code),
        action = escape(c.action),
        code = escape(c.user_code),
        csrf = escape(c.csrf),
    );
    Reply::html(200, page(notice, "Connect a device", &body))
}

/// The `403` for a person whose ID.me account lacks what the device `client_id` asks for
/// (`policy`), with a link to verify it (`verify_url`, the login route asking for it).
pub(crate) fn not_verified(
    notice: Option<&str>,
    client_id: &str,
    policy: &idme_core::verification::Policy,
    verify_url: &str,
) -> Reply {
    let body = format!(
        "<h1>Verification needed</h1>\
         <p id=\"message\"><strong id=\"client\">{client}</strong> asks for what ID.me has not \
         verified for your account: <strong id=\"policy\">{policy}</strong>.</p>\
         <p><a href=\"{verify}\">Verify with ID.me</a>, then come back to this page.</p>",
        client = escape(client_id),
        policy = escape(policy.handle()),
        verify = escape(verify_url),
    );
    Reply::html(403, page(notice, "Verification needed", &body))
}

/// A page with a heading and one line.
pub(crate) fn outcome(notice: Option<&str>, status: u16, title: &str, text: &str) -> Reply {
    let body = format!(
        "<h1>{}</h1><p id=\"message\">{}</p>",
        escape(title),
        escape(text)
    );
    Reply::html(status, page(notice, title, &body))
}
