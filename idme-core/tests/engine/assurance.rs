//! Requested assurance is checked: a returned `acr` must be one of the `acr_values` sent,
//! and the granted `scope` must hold IAL2/LOA3 when configured (and every configured
//! policy whenever the provider returns `scope`). Otherwise no session.

use idme_core::{LoginOptions, Policy, ResponseMode, ResponseType};
use idme_testkit::pair::{PAIR_REDIRECT_URI, signed_in_as as signed_in};
use idme_testkit::{Fault, Persona};

use super::common;
use common::{rig_at, sign_in};

const SESSION: &str = "__Host-idme_session";
const IAL2: &str = "http://idmanagement.gov/ns/assurance/ial/2/aal/2";

#[tokio::test]
async fn an_acr_outside_the_acr_values_makes_no_session() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
        b.acr_values(format!("{IAL2} urn:other"))
    })
    .await;
    rig.emulator.set_faults([Fault::WrongAcr]);
    let page = sign_in(&rig, &LoginOptions::new()).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(!signed_in(&page, SESSION));
    rig.emulator.clear_faults();
    assert!(signed_in(
        &sign_in(&rig, &LoginOptions::new()).await,
        SESSION
    ));
}

#[tokio::test]
async fn ial2_must_be_in_the_granted_scope() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
        b.scopes(["openid", IAL2])
    })
    .await;
    for fault in [Fault::NarrowScope, Fault::OmitScope] {
        rig.emulator.set_faults([fault.clone()]);
        let page = sign_in(&rig, &LoginOptions::new()).await;
        assert_eq!(page.status, 400, "{fault:?}: {}", page.body);
        assert!(!signed_in(&page, SESSION), "{fault:?}");
    }
    rig.emulator.clear_faults();
    assert!(signed_in(
        &sign_in(&rig, &LoginOptions::new()).await,
        SESSION
    ));
}

#[tokio::test]
async fn loa3_must_be_in_the_granted_scope_too() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
        b.policies([Policy::Loa3])
    })
    .await;
    rig.emulator.set_faults([Fault::OmitScope]);
    assert_eq!(sign_in(&rig, &LoginOptions::new()).await.status, 400);
}

#[tokio::test]
async fn other_policies_are_checked_only_when_scope_is_returned() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
        b.policies([Policy::Military])
    })
    .await;
    rig.emulator.set_faults([Fault::NarrowScope]);
    let page = sign_in(&rig, &LoginOptions::new()).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(!signed_in(&page, SESSION));
    // RFC 6749 §5.1: no `scope` means the scope asked for.
    rig.emulator.set_faults([Fault::OmitScope]);
    assert!(signed_in(
        &sign_in(&rig, &LoginOptions::new()).await,
        SESSION
    ));
}

#[tokio::test]
async fn per_login_policies_are_not_required_this_way() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| b).await;
    rig.emulator.set_faults([Fault::NarrowScope]);
    let done = sign_in(&rig, &LoginOptions::new().policy(Policy::Military)).await;
    assert!(signed_in(&done, SESSION), "{}", done.body);
}

#[tokio::test]
async fn front_channel_access_tokens_are_held_to_the_same_rule() {
    let rig = rig_at(PAIR_REDIRECT_URI, Some(Persona::Veteran), |b| {
        b.scopes(["openid", IAL2])
            .response_type(ResponseType::IdTokenToken)
            .response_mode(ResponseMode::FormPost)
    })
    .await;
    rig.emulator.set_faults([Fault::NarrowScope]);
    let page = sign_in(&rig, &LoginOptions::new()).await;
    assert_eq!(page.status, 400, "{}", page.body);
    rig.emulator.clear_faults();
    let done = sign_in(&rig, &LoginOptions::new()).await;
    assert!(signed_in(&done, SESSION), "{}", done.body);
}
