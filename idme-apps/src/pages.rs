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

/// What the person confirms: which client, which policies, which code, and when and
/// from where the device asked.
pub(crate) struct Confirm<'a> {
    pub(crate) action: &'a str,
    pub(crate) client: &'a crate::config::AppClient,
    pub(crate) scope: &'a [String],
    pub(crate) shown_code: &'a str,
    pub(crate) user_code: &'a str,
    pub(crate) csrf: &'a str,
    /// When the device asked, for people (`2024-05-01 14:03 UTC (2 minutes ago)`).
    pub(crate) asked_at: &'a str,
    /// The address the device asked from, or `unknown`.
    pub(crate) asked_from: &'a str,
}

/// The confirmation page: one form posting `user_code`, `csrf` and `decision`. The person
/// compares the code with the one on the device they hold (RFC 8628 §5.4).
pub(crate) fn confirm(notice: Option<&str>, c: &Confirm<'_>) -> Reply {
    let policies = if c.scope.is_empty() {
        "<p>It asks for your identity only.</p>".to_owned()
    } else {
        let items: String = c
            .scope
            .iter()
            .map(|p| format!("<li>{}</li>", escape(&policy_label(p))))
            .collect();
        format!("<p>It asks for what ID.me verified about you:</p><ul id=\"policies\">{items}</ul>")
    };
    let unnamed = if c.client.has_display_name() {
        ""
    } else {
        "<p id=\"unnamed\">This site has not named this device's app: it is shown by the id \
         it was registered with.</p>"
    };
    let body = format!(
        "<h1>Connect a device</h1>\
         <p><strong id=\"client\">{client}</strong> wants to act as you.</p>{unnamed}{policies}\
         <p>Check that this code matches the one shown on a device you have with you: \
         <strong id=\"code\">{shown}</strong></p>\
         <p id=\"asked\">The device asked at <span id=\"asked-at\">{asked_at}</span> from the \
         network address <span id=\"asked-from\">{asked_from}</span>.</p>\
         <p>If the codes differ, or you did not start this on a device of yours just now, \
         deny.</p>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"user_code\" value=\"{code}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        client = escape(c.client.display_name_or_id()),
        shown = escape(c.shown_code),
        asked_at = escape(c.asked_at),
        asked_from = escape(c.asked_from),
        action = escape(c.action),
        code = escape(c.user_code),
        csrf = escape(c.csrf),
    );
    Reply::html(200, page(notice, "Connect a device", &body))
}

/// A policy handle for people: `verified military status`, `identity verified (IAL2)`.
pub(crate) fn policy_label(handle: &str) -> String {
    use idme_core::verification::Policy;
    let policy = Policy::parse(handle);
    if let Some(group) = policy.group() {
        return format!("verified {} status", group.label());
    }
    match policy {
        Policy::Ial2 => "identity verified (IAL2)".into(),
        Policy::Loa3 => "identity verified (LOA3)".into(),
        Policy::Age => "age verified".into(),
        Policy::Login => "sign-in only".into(),
        Policy::Mfa => "multi-factor sign-in".into(),
        Policy::KbaReplacement => "identity proofed (KBA replacement)".into(),
        Policy::FortifiedIdentity => "fortified identity".into(),
        other => other.handle().to_owned(),
    }
}

/// The `403` for a person whose ID.me account lacks what the device `client` (its name
/// for people) asks for (`policy`), with a link to verify it (`verify_url`, the login
/// route asking for it).
pub(crate) fn not_verified(
    notice: Option<&str>,
    client: &str,
    policy: &idme_core::verification::Policy,
    verify_url: &str,
) -> Reply {
    let body = format!(
        "<h1>Verification needed</h1>\
         <p id=\"message\"><strong id=\"client\">{client}</strong> asks for what ID.me has not \
         verified for your account: <strong id=\"policy\">{policy}</strong>.</p>\
         <p><a href=\"{verify}\">Verify with ID.me</a>, then come back to this page.</p>",
        client = escape(client),
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
