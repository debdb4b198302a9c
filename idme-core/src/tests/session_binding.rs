//! Every sealed thing is bound to the issuer and client id of the configuration that
//! sealed it: with the same cookie keys, another issuer or another client never opens it.

use std::sync::Arc;

use crate::cookies::{RequestCookies, SetCookie};
use crate::error::Unauthenticated;
use crate::flow::LoginOptions;
use crate::flow::pending::PendingLogin;
use crate::session::Session;
use crate::store::{MemoryStore, SessionStore};
use crate::{CookieKeys, Environment, IdmeBuilder, IdmeConfig};

const MASTER: [u8; 32] = [0x5a; 32];
const EMULATOR: &str = "http://127.0.0.1:9/oidc";
const PRODUCTION: &str = "https://api.id.me/oidc";

fn builder(issuer: &str, client_id: &str) -> IdmeBuilder {
    IdmeBuilder::new()
        .environment(Environment::from_issuer(issuer))
        .client_id(client_id)
        .client_secret("s")
        .redirect_uri("http://127.0.0.1:8080/auth/callback")
        .cookie_keys(CookieKeys::from_masters([MASTER]).unwrap())
}

fn config(issuer: &str, client_id: &str) -> IdmeConfig {
    builder(issuer, client_id).build().unwrap()
}

fn store_config(issuer: &str, client_id: &str, store: Arc<MemoryStore>) -> IdmeConfig {
    builder(issuer, client_id)
        .session_store(store)
        .build()
        .unwrap()
}

/// Same keys, another issuer; same keys and issuer, another client.
fn pairs() -> Vec<(IdmeConfig, IdmeConfig, &'static str)> {
    vec![
        (config(EMULATOR, "c"), config(PRODUCTION, "c"), "issuer"),
        (config(PRODUCTION, "c1"), config(PRODUCTION, "c2"), "client"),
    ]
}

fn session(now: u64) -> Session {
    Session::for_tests("sid-binding-0123456789abcdef", "veteran", now)
}

fn as_request(set: &[SetCookie]) -> RequestCookies {
    let header = set
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    RequestCookies::from_header_values([header.as_str()])
}

#[test]
fn a_session_cookie_opens_only_for_its_issuer_and_client() {
    let now = crate::clock::system_now();
    for (a, b, what) in pairs() {
        let req = as_request(&session(now).to_cookies(&a, &RequestCookies::default(), now));
        assert!(
            Session::from_cookies(&a, &req, now).is_ok(),
            "{what}: control"
        );
        assert_eq!(
            Session::from_cookies(&b, &req, now).unwrap_err(),
            Unauthenticated::Invalid,
            "{what}: a session sealed for another {what} must not open"
        );
    }
}

#[tokio::test]
async fn a_stored_record_and_its_handle_open_only_for_their_issuer_and_client() {
    let now = crate::clock::system_now();
    for (issuers, what) in [((EMULATOR, "c"), "issuer"), ((PRODUCTION, "c1"), "client")] {
        let store = Arc::new(MemoryStore::new());
        let a = store_config(issuers.0, issuers.1, store.clone());
        let b = match what {
            "issuer" => store_config(PRODUCTION, "c", store.clone()),
            _ => store_config(PRODUCTION, "c2", store.clone()),
        };
        let s = session(now);
        store.save(&s.to_record(&a)).await.unwrap();
        let record = store.load(&s.sid).await.unwrap().unwrap();
        assert!(
            Session::from_record(&a, &record).is_some(),
            "{what}: control"
        );
        assert!(
            Session::from_record(&b, &record).is_none(),
            "{what}: a record sealed for another {what} must not open"
        );
        let req = as_request(&s.to_cookies(&a, &RequestCookies::default(), now));
        assert_eq!(Session::id_from_cookies(&a, &req).unwrap(), s.sid);
        assert_eq!(
            Session::id_from_cookies(&b, &req).unwrap_err(),
            Unauthenticated::Invalid,
            "{what}: a handle sealed for another {what} must not open"
        );
    }
}

#[test]
fn a_pending_login_cookie_opens_only_for_its_issuer_and_client() {
    let now = crate::clock::system_now();
    for (a, b, what) in pairs() {
        let started = crate::flow::start::start(
            &a,
            "https://idp.example/oauth/authorize",
            &LoginOptions::new(),
            now,
        )
        .unwrap();
        let c = &started.cookie;
        assert!(
            a.cookie_keys
                .open::<PendingLogin>(&c.name, &c.value)
                .is_some(),
            "{what}: control"
        );
        assert!(
            b.cookie_keys
                .open::<PendingLogin>(&c.name, &c.value)
                .is_none(),
            "{what}: a pending login sealed for another {what} must not open"
        );
    }
}

#[test]
fn the_binding_is_associated_data_and_unambiguous() {
    let keys = || CookieKeys::from_masters([[9u8; 32]]).unwrap();
    let sealed = keys().bound_to("https://i", "ab").seal("n", &"x");
    assert_eq!(
        keys()
            .bound_to("https://i", "ab")
            .open::<String>("n", &sealed),
        Some("x".into())
    );
    for other in [
        keys(),
        keys().bound_to("https://j", "ab"),
        keys().bound_to("https://i", "ac"),
        keys().bound_to("https://ia", "b"),
        keys().bound_to("https://i", "a\u{0}b"),
    ] {
        assert_eq!(other.open::<String>("n", &sealed), None);
    }
    assert_eq!(
        keys()
            .bound_to("https://i", "ab")
            .open::<String>("m", &sealed),
        None
    );
}
