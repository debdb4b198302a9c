//! The engine's spans, captured by a `tracing` layer installed for this test's thread:
//! a sign-in is one `idme.sign_in` span whose children are the `idme.provider_request`
//! spans of its calls to the provider, with their endpoint and status, and no field holds
//! a token or the authorization code. (Its own binary: tracing caches each callsite's
//! interest process-wide, so other tests' threads could turn these spans off.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use idme_core::LoginOptions;
use idme_testkit::pair::{Pair, signed_in};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One captured span: its name, its parent's name, and its fields as text.
#[derive(Debug, Clone, Default)]
struct Captured {
    name: String,
    parent: Option<String>,
    fields: HashMap<String, String>,
}

/// Every span made on this thread, in order, with the fields recorded on it later.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<(u64, Captured)>>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut captured = Captured {
            name: attrs.metadata().name().to_owned(),
            parent: ctx
                .span(id)
                .and_then(|s| s.parent())
                .map(|p| p.name().to_owned()),
            fields: HashMap::new(),
        };
        attrs.record(&mut Fields(&mut captured.fields));
        self.0.lock().unwrap().push((id.into_u64(), captured));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, c)) = spans.iter_mut().rev().find(|(i, _)| *i == id.into_u64()) {
            values.record(&mut Fields(&mut c.fields));
        }
    }
}

impl Spans {
    fn named(&self, name: &str) -> Vec<Captured> {
        let spans = self.0.lock().unwrap();
        let named = spans.iter().filter(|(_, c)| c.name == name);
        named.map(|(_, c)| c.clone()).collect()
    }
}

#[tokio::test]
async fn a_sign_in_is_a_span_with_its_provider_calls_as_children() {
    let spans = Spans::default();
    let _on_this_thread =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let pair = Pair::new(|b| b).await;
    let (mut browser, _, callback) = pair.until_callback(&LoginOptions::new()).await;
    let code = callback.param("code").expect("a code");
    let reply = pair.deliver(&mut browser, &callback).await;
    assert!(signed_in(&reply), "{}", reply.body);
    let session = pair.authenticate(&mut browser).await.expect("signed in");
    let access_token = session
        .user
        .access_token()
        .expect("an access token")
        .secret()
        .to_owned();

    let sign_ins = spans.named("idme.sign_in");
    assert_eq!(sign_ins.len(), 1, "{sign_ins:?}");
    assert_eq!(sign_ins[0].fields["idme.outcome"], "success");
    assert_eq!(sign_ins[0].fields["otel.status_code"], "OK");

    let calls = spans.named("idme.provider_request");
    let in_sign_in: Vec<_> = calls
        .iter()
        .filter(|c| c.parent.as_deref() == Some("idme.sign_in"))
        .collect();
    let token = in_sign_in
        .iter()
        .find(|c| c.fields["idme.endpoint"] == "token")
        .expect("the token request is a child of the sign-in");
    assert_eq!(token.fields["http.request.method"], "POST");
    assert_eq!(token.fields["http.response.status_code"], "200");
    assert!(token.fields.contains_key("idme.duration_ms"), "{token:?}");
    assert!(token.fields.contains_key("server.address"), "{token:?}");
    assert!(!token.fields["url.path"].contains('?'), "{token:?}");

    for span in spans.0.lock().unwrap().iter().map(|(_, c)| c) {
        for (name, value) in &span.fields {
            assert!(
                !value.contains(&code),
                "{}.{name} holds the code",
                span.name
            );
            assert!(
                !value.contains(&access_token),
                "{}.{name} holds the access token",
                span.name
            );
        }
    }
}

#[tokio::test]
async fn a_refused_callback_records_its_outcome() {
    let spans = Spans::default();
    let _on_this_thread =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let pair = Pair::new(|b| b).await;
    let reply = pair
        .callback_get(&Default::default(), "code=c&state=nothing-started")
        .await;
    assert_eq!(reply.status, 400);
    let sign_ins = spans.named("idme.sign_in");
    assert_eq!(sign_ins.len(), 1, "{sign_ins:?}");
    assert_eq!(sign_ins[0].fields["idme.outcome"], "invalid_state");
    assert_eq!(sign_ins[0].fields["otel.status_code"], "ERROR");
}

#[tokio::test]
async fn refresh_and_logout_are_spans_with_their_outcome() {
    let spans = Spans::default();
    let _on_this_thread =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let pair = Pair::new(|b| b.refresh_margin(std::time::Duration::from_secs(400))).await;
    let mut browser = pair.sign_in().await;
    assert!(pair.authenticate(&mut browser).await.is_ok());
    let refreshes = spans.named("idme.refresh");
    assert_eq!(refreshes.len(), 1, "{refreshes:?}");
    assert_eq!(refreshes[0].fields["idme.outcome"], "success");
    let calls = spans.named("idme.provider_request");
    assert!(
        calls
            .iter()
            .any(|c| c.parent.as_deref() == Some("idme.refresh")
                && c.fields["idme.endpoint"] == "token"),
        "{calls:?}"
    );
    assert_eq!(pair.logout(&mut browser).await.status, 303);
    let logouts = spans.named("idme.logout");
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    assert_eq!(logouts[0].fields["idme.logout.kind"], "logout");
    assert_eq!(logouts[0].fields["idme.outcome"], "signed_out");
}
