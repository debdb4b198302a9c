//! The emulator's HTML pages. Every interpolated value is HTML-escaped.

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::persona::Persona;
use crate::util::html_escape;

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}\
         button{{display:block;width:100%;margin:.5rem 0;padding:.7rem;font-size:1rem;cursor:pointer}}\
         #cancel{{background:#eee}}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        title = html_escape(title),
    )
}

pub(crate) fn html(status: StatusCode, document: String) -> Response {
    let mut response = (status, Html(document)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The sign-in page: one button per persona and a Cancel button, posting to the decision endpoint.
pub(crate) fn sign_in(request_id: &str, client_id: &str, scope: &str) -> Response {
    let mut buttons = String::new();
    for persona in Persona::all() {
        let _ = writeln!(
            buttons,
            "<button type=\"submit\" name=\"persona\" value=\"{v}\" id=\"persona-{v}\">Sign in as {label}</button>",
            v = persona.as_str(),
            label = html_escape(persona.label()),
        );
    }
    let body = format!(
        "<p id=\"emulator-notice\" role=\"status\"><strong>Offline emulator: this is not ID.me.</strong> \
         No real account or credential is used here.</p>\n\
         <h1>ID.me test sign-in</h1>\n\
         <p>The application <code>{client}</code> asks for <code>{scope}</code>.</p>\n\
         <p>This is the idme-testkit emulator: choose a test persona.</p>\n\
         <form method=\"post\" action=\"/oauth/authorize/decision\">\n\
         <input type=\"hidden\" name=\"request_id\" value=\"{id}\">\n{buttons}\
         <button type=\"submit\" name=\"cancel\" value=\"1\" id=\"cancel\">Cancel</button>\n</form>",
        client = html_escape(client_id),
        scope = html_escape(scope),
        id = html_escape(request_id),
    );
    html(StatusCode::OK, page("ID.me test sign-in", &body))
}

/// An error shown to the user instead of redirecting (bad client or redirect URI, expired sign-in).
pub(crate) fn error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = format!(
        "<h1>ID.me test sign-in: error</h1>\n<p><strong id=\"error\">{}</strong></p>\n<p id=\"error_description\">{}</p>",
        html_escape(error),
        html_escape(description),
    );
    html(status, page("ID.me test sign-in: error", &body))
}

/// OAuth 2.0 Form Post Response Mode: an auto-submitting form carrying the response to the redirect URI.
pub(crate) fn form_post(action: &str, params: &[(String, String)]) -> Response {
    let mut inputs = String::new();
    for (name, value) in params {
        let _ = writeln!(
            inputs,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            html_escape(name),
            html_escape(value)
        );
    }
    let body = format!(
        "<form method=\"post\" action=\"{action}\">\n{inputs}\
         <noscript><p>JavaScript is off: press the button to continue.</p>\
         <button type=\"submit\">Continue</button></noscript>\n</form>\n\
         <script>document.forms[0].submit()</script>",
        action = html_escape(action),
    );
    html(StatusCode::OK, page("Submit this form", &body))
}

/// The page shown after logout when there is nowhere to send the browser.
pub(crate) fn logged_out() -> Response {
    html(
        StatusCode::OK,
        page(
            "Signed out",
            "<h1>Signed out</h1>\n<p>You have been signed out of the ID.me test provider.</p>",
        ),
    )
}
