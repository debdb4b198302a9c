//! `RequestAuth`'s rejections in memory: each failure has a reason an application can
//! match on, and reading it hands the answer to the application.

use idme_core::adapter::{GuardRequest, RejectionReason, RequestAuth};
use idme_core::extension::Extension;
use idme_core::require::{Student, Verify};
use idme_core::verification::{Group, Requirement};
use idme_core::{Error, Idme, RequestCookies, Unauthenticated};
use idme_testkit::pair::{Pair, SwitchableStore};

/// Accepts bearer tokens, recognizes `refused.…` ones, refuses them all.
#[derive(Debug)]
struct RefusingBearer;

impl Extension for RefusingBearer {
    fn recognizes_bearer(&self, token: &str) -> bool {
        token.starts_with("refused.")
    }
    fn accepts_bearer(&self) -> bool {
        true
    }
}

fn guard<'a>(idme: Option<&'a Idme>, authorization: Option<&'a str>) -> GuardRequest<'a> {
    GuardRequest {
        idme,
        setup: ".layer(IdmeLayer::new(idme))",
        accept: Some("application/json"),
        path_and_query: "/student",
        authorization,
        method: "GET",
        provenance: Default::default(),
        sec_fetch_mode: None,
    }
}

#[tokio::test]
async fn nobody_signed_in_is_not_signed_in_with_the_engine_error() {
    let pair = Pair::new(|b| b).await;
    let rejection = RequestAuth::new()
        .user(&guard(Some(&pair.idme), None), RequestCookies::default)
        .await
        .unwrap_err();
    let no_session = Error::Unauthenticated(Unauthenticated::NoSession);
    assert_eq!(
        rejection.reason(),
        &RejectionReason::NotSignedIn(no_session.clone())
    );
    assert_eq!(rejection.error(), Some(&no_session));
    assert_eq!((rejection.status, rejection.reply.status), (401, 401));
}

#[tokio::test]
async fn a_user_without_the_verification_is_not_verified_with_the_requirement() {
    let pair = Pair::new(|b| b).await;
    let browser = pair.sign_in().await;
    let rejection = RequestAuth::new()
        .verified(
            &guard(Some(&pair.idme), None),
            || browser.cookies(),
            &Student::requirement(),
        )
        .await
        .unwrap_err();
    let RejectionReason::NotVerified {
        requirement,
        verify_url,
    } = rejection.reason()
    else {
        panic!("{rejection:?}");
    };
    assert_eq!(requirement, &Requirement::Group(Group::Student));
    assert!(
        verify_url.starts_with("/auth/login?policy="),
        "{verify_url}"
    );
    assert!(
        verify_url.ends_with("&return_to=%2Fstudent"),
        "{verify_url}"
    );
    assert_eq!(rejection.reason().verify_url(), Some(verify_url.as_str()));
    assert_eq!(rejection.error(), None);
    assert_eq!((rejection.status, rejection.reply.status), (403, 403));
}

#[tokio::test]
async fn a_store_that_is_down_is_store_unavailable_and_replaced_until_read() {
    let store = SwitchableStore::new();
    let pair = Pair::new({
        let store = store.clone();
        move |b| b.session_store(store)
    })
    .await;
    let browser = pair.sign_in().await;
    store.set_down(true);
    let auth = RequestAuth::new();
    let guarded = guard(Some(&pair.idme), None);
    let rejection = auth
        .optional_user(&guarded, || browser.cookies())
        .await
        .unwrap_err();
    assert_eq!(rejection.status, 503);
    // Unread (swallowed by a blanket `Option`), the outage replaces the handler's answer…
    let swallowed = auth
        .response_effects()
        .replace
        .expect("the outage is answered");
    assert_eq!(swallowed.status, 503);
    // …read, the application answers.
    assert!(matches!(
        rejection.reason(),
        RejectionReason::StoreUnavailable(Error::SessionStoreUnavailable(_))
    ));
    assert!(auth.response_effects().replace.is_none());
    assert!(auth.rejection().is_some(), "still there for a catcher");
}

#[tokio::test]
async fn a_refused_bearer_token_is_an_invalid_bearer() {
    let pair = Pair::with_engine(|b| b, |e| e.extension(RefusingBearer)).await;
    let auth = RequestAuth::new();
    let guarded = guard(Some(&pair.idme), Some("Bearer refused.abc"));
    let rejection = auth
        .optional_user(&guarded, RequestCookies::default)
        .await
        .unwrap_err();
    assert_eq!(
        rejection.reason(),
        &RejectionReason::InvalidBearer(Error::Unauthenticated(Unauthenticated::InvalidToken))
    );
    assert_eq!(rejection.status, 401);
    assert!(
        rejection
            .reply
            .header_pairs()
            .any(|(name, value)| name == "www-authenticate" && value.contains("invalid_token"))
    );
    // No credentials at all, where bearer tokens are accepted: not signed in.
    let rejection = RequestAuth::new()
        .user(&guard(Some(&pair.idme), None), RequestCookies::default)
        .await
        .unwrap_err();
    assert!(matches!(
        rejection.reason(),
        RejectionReason::NotSignedIn(Error::Unauthenticated(Unauthenticated::NoSession))
    ));
}

#[tokio::test]
async fn a_missing_engine_is_missing_setup_naming_the_call() {
    let rejection = RequestAuth::new()
        .user(&guard(None, None), RequestCookies::default)
        .await
        .unwrap_err();
    assert_eq!(
        rejection.reason(),
        &RejectionReason::MissingSetup {
            what: "Idme engine".into(),
            setup: ".layer(IdmeLayer::new(idme))".into(),
        }
    );
    assert_eq!(rejection.status, 500);
    // Display is for logs, and does not count as reading.
    let shown = format!("{rejection}");
    assert!(shown.contains("IdmeLayer"), "{shown}");
}
