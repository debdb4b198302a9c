//! Step-up for app clients: a grant records the sign-in (`auth_time`) of the web session
//! that approved it, its bearer user carries it, and `Fresh<N>` (`RequestAuth::fresh`)
//! refuses a token whose grant was approved from an older sign-in with RFC 9470's
//! `401` challenge.

use std::time::Duration;

use super::common;

use common::apps::*;
use idme_core::IdmeUser;
use idme_core::adapter::{GuardRequest, Rejection, RejectionReason, RequestAuth};
use idme_testkit::Fault;
use idme_testkit::pair::{Browser, Pair};

async fn fresh(pair: &Pair, token: &str, max_age: u64) -> Result<IdmeUser, Rejection> {
    let header = format!("Bearer {token}");
    let request = GuardRequest {
        idme: Some(&pair.idme),
        setup: "test",
        // A browser's `Accept`: a bearer client still gets the challenge, never a redirect.
        accept: Some("text/html"),
        path_and_query: "/verified/recent",
        authorization: Some(&header),
        method: "GET",
        provenance: Default::default(),
        sec_fetch_mode: None,
    };
    RequestAuth::new()
        .fresh(&request, Default::default, max_age)
        .await
}

/// A device's tokens, approved from `browser`'s web session.
async fn approve_from(pair: &Pair, browser: &mut Browser) -> String {
    let codes = device_code(pair, DEVICE, Some("military")).await;
    let confirm = page_for(pair, browser, codes["user_code"].as_str().unwrap()).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let done = decide(pair, browser, &confirm, "allow").await;
    assert_eq!(done.status, 200, "{}", done.body);
    let tokens = poll(pair, DEVICE, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    json(&tokens)["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_bearer_user_carries_the_sign_in_time_of_the_approving_session() {
    let pair = rig().await;
    let (browser, tokens) = approved(&pair, DEVICE, Some("military")).await;
    let cookie_user = guard(&pair, None, Some(&browser)).await.unwrap();
    let at = tokens["access_token"].as_str().unwrap();
    let user = fresh(&pair, at, 300)
        .await
        .expect("approved from a recent sign-in");
    assert_eq!(user.auth_time(), cookie_user.auth_time());
    assert!(user.auth_time() < user.expires_at());
}

#[tokio::test]
async fn a_token_approved_from_an_old_sign_in_gets_the_rfc_9470_challenge() {
    // With the ID token's `auth_time`, and without one (the web session's creation).
    for faults in [vec![], vec![Fault::OmitAuthTime]] {
        stale_approval(faults).await;
    }
}

async fn stale_approval(faults: Vec<Fault>) {
    let pair = rig().await;
    pair.emulator.set_faults(faults);
    let mut browser = pair.sign_in().await;
    let signed_in_at = pair.now();
    // The web session is still valid, but its sign-in is older than 300 s (and the skew).
    pair.advance(Duration::from_secs(361));
    let at = approve_from(&pair, &mut browser).await;
    let user = fresh(&pair, &at, 3600)
        .await
        .expect("recent enough for an hour");
    assert_eq!(
        user.auth_time(),
        signed_in_at,
        "the grant's sign-in, not its creation"
    );

    let rejection = fresh(&pair, &at, 300).await.unwrap_err();
    assert!(
        matches!(
            rejection.reason(),
            RejectionReason::StaleSignIn { max_age: 300, .. }
        ),
        "{rejection:?}"
    );
    let reply = &rejection.reply;
    assert_eq!(reply.status, 401, "{}", reply.body);
    let challenge = reply.header("www-authenticate").expect("a challenge");
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_user_authentication\""),
        "{challenge}"
    );
    assert!(challenge.contains("max_age=\"300\""), "{challenge}");
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["error"], "insufficient_user_authentication");
    assert_eq!(body["max_age"], 300);

    // The person signs in again and approves again: the new grant passes.
    let mut browser = pair.sign_in().await;
    let at = approve_from(&pair, &mut browser).await;
    let user = fresh(&pair, &at, 300).await.expect("a new approval");
    assert_eq!(user.auth_time(), pair.now());
}

/// `Assured<A>` for app clients: a grant keeps the `acr` of the sign-in that approved it;
/// below the assurance, RFC 9470's challenge names `acr_values`.
#[tokio::test]
async fn a_token_approved_below_the_assurance_gets_the_challenge_with_acr_values() {
    use idme_core::require::{AAL2_ACR, Assurance, Ial2Aal2};
    let assured = |pair: &Pair, token: String| {
        let header = format!("Bearer {token}");
        let idme = pair.idme.clone();
        async move {
            let request = GuardRequest {
                idme: Some(&idme),
                setup: "test",
                accept: Some("text/html"),
                path_and_query: "/pay",
                authorization: Some(&header),
                method: "GET",
                provenance: Default::default(),
                sec_fetch_mode: None,
            };
            RequestAuth::new()
                .assured(&request, Default::default, Ial2Aal2::ACR_VALUES)
                .await
        }
    };
    // Signed in at AAL2 (asked for in the configuration): below IAL2 + AAL2.
    let pair = rig_as(idme_testkit::Persona::Veteran, |b| b.acr_values(AAL2_ACR)).await;
    let mut browser = pair.sign_in().await;
    let at = approve_from(&pair, &mut browser).await;
    let rejection = assured(&pair, at).await.unwrap_err();
    let RejectionReason::InsufficientAssurance { acr_values, .. } = rejection.reason() else {
        panic!("{rejection:?}");
    };
    assert_eq!(acr_values, Ial2Aal2::ACR_VALUES[0]);
    let reply = &rejection.reply;
    assert_eq!(reply.status, 401, "a bearer client is never redirected");
    let challenge = reply.header("www-authenticate").expect("a challenge");
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_user_authentication\"")
            && challenge.contains(&format!("acr_values=\"{}\"", Ial2Aal2::ACR_VALUES[0])),
        "{challenge}"
    );

    // Approved from a sign-in at IAL2 + AAL2: a grant of `ial2` passes and shows that
    // `acr`; one without it shows no assurance (a verification of its own), so it does not.
    let pair = rig_as(idme_testkit::Persona::Veteran, |b| {
        b.acr_values(Ial2Aal2::ACR_VALUES[0])
    })
    .await;
    let mut browser = pair.sign_in().await;
    let at = approve_from(&pair, &mut browser).await;
    assert!(assured(&pair, at).await.is_err(), "ial2 not granted");
    let (_, tokens) = approved(&pair, DEVICE, Some("ial2")).await;
    let at = tokens["access_token"].as_str().unwrap().to_owned();
    let user = assured(&pair, at).await.expect("at the assurance");
    assert_eq!(user.acr(), Some(Ial2Aal2::ACR_VALUES[0]));
}
