//! The events JWKS, and the page a developer sends a security event from (offline
//! development: "account disabled" for the persona that signed in, to see its effect).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Params;
use crate::events::risc;
use crate::pages::{html, page};
use crate::persona::Persona;
use crate::state::{Shared, lock};
use crate::util::html_escape;

/// The events this page offers, with their labels.
const OFFERED: &[(&str, &str)] = &[
    (risc::ACCOUNT_DISABLED, "account disabled"),
    (risc::CREDENTIAL_COMPROMISE, "credential compromise"),
    (risc::SESSIONS_REVOKED, "sessions revoked"),
    (risc::ACCOUNT_ENABLED, "account enabled"),
];

/// `GET /ssf/jwks`: the keys security events are signed with.
pub(crate) async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    match crate::events::jwks(&shared).await {
        Ok(document) => Json(document).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "idme-testkit could not make its events key");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /testkit/events`: one form per persona (the last one signed in first) sending an event.
pub(crate) async fn show(State(shared): State<Arc<Shared>>) -> Response {
    events_page(&shared, None)
}

/// `POST /testkit/events`: sends the chosen event about the chosen persona to the
/// receiver. Same-origin only: another site must not be able to end a developer's session.
pub(crate) async fn send(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if origin.is_some_and(|o| o != shared.base_url) {
        return html(
            StatusCode::FORBIDDEN,
            page("Refused", "<h1>Refused</h1><p>A cross-site request.</p>"),
        );
    }
    let params = Params::parse(&body);
    let persona = params.get("persona").and_then(Persona::parse);
    let event = params
        .get("event")
        .and_then(|e| OFFERED.iter().find(|(uri, _)| *uri == e));
    let (Some(persona), Some((uri, label))) = (persona, event) else {
        return html(
            StatusCode::BAD_REQUEST,
            page("Bad request", "<h1>Choose a persona and an event</h1>"),
        );
    };
    let outcome = match crate::events::send(&shared, uri, persona).await {
        Ok(sent) if sent.delivered() => format!(
            "Sent \u{201c}{label}\u{201d} for {} ({} attempt(s)): the application accepted it.",
            persona.label(),
            sent.attempts()
        ),
        Ok(sent) => format!(
            "Sent \u{201c}{label}\u{201d} for {}: the application did not accept it after {} attempts ({:?}).",
            persona.label(),
            sent.attempts(),
            sent.statuses
        ),
        Err(e) => format!("Not sent: {e}"),
    };
    events_page(&shared, Some(&outcome))
}

fn events_page(shared: &Shared, outcome: Option<&str>) -> Response {
    let (receiver, last) = {
        let events = lock(&shared.events);
        (events.receiver.clone(), events.last_persona)
    };
    let mut body = String::from(
        "<p id=\"emulator-notice\" role=\"status\"><strong>Offline emulator: this is not ID.me.</strong></p>\n\
         <h1>Security events</h1>\n",
    );
    if let Some(outcome) = outcome {
        let _ = writeln!(
            body,
            "<p id=\"outcome\" role=\"status\">{}</p>",
            html_escape(outcome)
        );
    }
    let Some(receiver) = receiver else {
        body.push_str(
            "<p id=\"no-receiver\">No application registered a receiver for security events.</p>",
        );
        return html(StatusCode::OK, page("Security events", &body));
    };
    let _ = writeln!(
        body,
        "<p>ID.me tells <code>{}</code> (audience <code>{}</code>) that something happened to an account.</p>",
        html_escape(&receiver.url),
        html_escape(&receiver.audience),
    );
    let personas = last
        .into_iter()
        .chain(Persona::all().iter().copied().filter(|p| Some(*p) != last));
    for persona in personas {
        let note = if Some(persona) == last {
            " (signed in last)"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/testkit/events\">\n<h2>{label}{note}</h2>\n\
             <input type=\"hidden\" name=\"persona\" value=\"{v}\">\n",
            label = html_escape(persona.label()),
            v = persona.as_str(),
        );
        for (uri, label) in OFFERED {
            let _ = writeln!(
                body,
                "<button type=\"submit\" name=\"event\" value=\"{uri}\" id=\"{v}-{id}\">Send \u{201c}{label}\u{201d}</button>",
                v = persona.as_str(),
                id = label.replace(' ', "-"),
            );
        }
        body.push_str("</form>\n");
    }
    html(StatusCode::OK, page("Security events", &body))
}
