//! The few HTML pages the engine renders: the fragment relay, errors, and the "sign-in
//! cancelled" page. No value from the request is ever written into a page unescaped, and
//! the relay page's only script is a static one allowed by its hash. Every page starts with
//! the configured [`page_notice`](crate::IdmeBuilder::page_notice), if any.

use std::sync::OnceLock;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use serde_json::json;

use crate::config::IdmeConfig;
use crate::error::{CallbackRejected, Error};
use crate::html::{escape, page};
use crate::reply::Reply;
use crate::verification::{Group, Requirement};

/// The relay script: moves the fragment's parameters into a form and POSTs it to the
/// callback. It reads the fragment only as data (never as HTML or code) and removes it
/// from the history so tokens do not linger there.
const RELAY_SCRIPT: &str = "(function(){var f=document.getElementById('relay');\
var h=window.location.hash.replace(/^#/,'');\
new URLSearchParams(h).forEach(function(v,k){var i=document.createElement('input');\
i.type='hidden';i.name=k;i.value=v;f.appendChild(i);});\
if(window.history&&history.replaceState){history.replaceState(null,'',window.location.pathname);}\
f.submit();})();";

fn relay_csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(RELAY_SCRIPT));
        format!(
            "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
    })
}

/// The page served on the first hop of a `fragment`-mode callback.
pub(crate) fn relay(notice: Option<&str>, callback_path: &str) -> Reply {
    let body = page(
        notice,
        "Signing you in…",
        &format!(
            "<form id=\"relay\" method=\"post\" action=\"{action}\">\
             <noscript><p>JavaScript is needed to finish signing in.</p></noscript></form>\
             <p>Signing you in…</p><script>{RELAY_SCRIPT}</script>",
            action = escape(callback_path),
        ),
    );
    Reply::html_with_csp(200, body, relay_csp().to_owned())
}

/// The page for a failed sign-in: the error's public message, a way to start again.
pub(crate) fn error(notice: Option<&str>, error: &Error, login_path: &str) -> Reply {
    let (title, heading) = match error {
        Error::CallbackRejected(CallbackRejected::AccessDenied) => {
            ("Sign-in cancelled", "Sign-in cancelled")
        }
        Error::CallbackRejected(CallbackRejected::LoginRequired(_)) => {
            ("Not signed in", "You are not signed in at ID.me")
        }
        _ => ("Sign-in failed", "We could not sign you in"),
    };
    let body = page(
        notice,
        title,
        &format!(
            "<h1>{heading}</h1><p id=\"message\">{message}</p>\
             <p><a href=\"{login}\">Sign in again</a> · <a href=\"/\">Home</a></p>",
            heading = escape(heading),
            message = escape(error.public_message()),
            login = escape(login_path),
        ),
    );
    Reply::html(error.status().as_u16(), body)
}

/// The 403 page for a signed-in user who lacks a verification: says what is needed and
/// offers to verify with ID.me.
pub(crate) fn verification_required(
    notice: Option<&str>,
    requirement: &Requirement,
    verify_url: &str,
) -> Reply {
    let body = page(
        notice,
        "Verification required",
        &format!(
            "<h1>Verification required</h1><p id=\"message\">This page is for {what} members. \
             ID.me can verify your status in a few minutes.</p><p>{button}</p><p><a href=\"/\">Home</a></p>",
            what = escape(&requirement.describe()),
            button = crate::button::verify_button(verify_url, requirement.group()),
        ),
    );
    Reply::html(403, body)
}

/// The 403 answer, as JSON, for a signed-in user who lacks a verification: what is needed
/// and where to verify.
pub(crate) fn verification_required_json(requirement: &Requirement, verify_url: &str) -> Reply {
    let subgroup = match requirement {
        Requirement::Subgroup(_, s) => Some(s.as_str()),
        _ => None,
    };
    Reply::json(
        403,
        &json!({
            "error": "verification_required",
            "message": format!("This resource is for {} members.", requirement.describe()),
            "group": requirement.group().map(Group::as_str),
            "policy": requirement.policy().handle(),
            "subgroup": subgroup,
            "verify_url": verify_url,
        }),
    )
}

/// Logs a failure with its details (never a secret) and renders the public page.
pub(crate) fn failure(config: &IdmeConfig, error: &Error, what: &str) -> Reply {
    if error.status().is_server_error() {
        tracing::error!(target: "idme::flow", error = %error, "{what}");
    } else {
        tracing::warn!(target: "idme::flow", error = %error, "{what}");
    }
    self::error(config.page_notice(), error, &config.paths.login)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }

    #[test]
    fn relay_page_allows_only_its_own_script() {
        let r = relay(None, "/auth/callback");
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("script-src 'sha256-"), "{csp}");
        assert!(!csp.contains("unsafe-inline'; script") && !csp.contains("script-src 'unsafe"));
        assert!(r.body.contains(RELAY_SCRIPT));
    }

    #[test]
    fn every_page_shows_the_notice_escaped() {
        let notice = Some("Offline <emulator> & not ID.me");
        let shown = "Offline &lt;emulator&gt; &amp; not ID.me";
        let requirement = Requirement::Group(crate::Group::Military);
        let pages = [
            relay(notice, "/auth/callback"),
            error(
                notice,
                &Error::CallbackRejected(CallbackRejected::AccessDenied),
                "/auth/login",
            ),
            error(
                notice,
                &Error::ApiMisuse(crate::Misuse::RouteOfAnotherEngine),
                "/auth/login",
            ),
            verification_required(notice, &requirement, "/auth/login?policy=military"),
        ];
        for p in &pages {
            assert!(p.body.contains("id=\"page-notice\""), "{}", p.body);
            assert!(p.body.contains(shown), "{}", p.body);
            assert!(!p.body.contains("<emulator>"), "{}", p.body);
        }
        // Without a notice, no banner.
        assert!(!relay(None, "/cb").body.contains("page-notice"));
        assert!(
            !error(
                None,
                &Error::ApiMisuse(crate::Misuse::RouteOfAnotherEngine),
                "/l"
            )
            .body
            .contains("page-notice")
        );
    }
}
