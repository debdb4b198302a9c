//! One negative test per rule of the ID token, the authorization response's `iss` and
//! userinfo, each against the in-memory emulator told to misbehave. Every failure is a
//! 4xx/5xx page with a safe message, no session, and the pending login cleared.

use idme_core::{LoginOptions, ResponseType};
use idme_testkit::pair::{Pair, assert_attempt_refused, clears_pending, signed_in};
use idme_testkit::{EmulatorConfig, Fault, Persona};

const NOT_VERIFIED: &str = "could not be verified";

/// Signs in with `fault` set on the emulator, expecting failure with `status` and `text`.
async fn fails_with(rt: ResponseType, fault: Fault, status: u16, text: &str) -> Pair {
    let pair = Pair::new(|b| b.response_type(rt)).await;
    pair.emulator.set_faults([fault.clone()]);
    let attempt = pair.attempt(&LoginOptions::new().return_to("/me")).await;
    assert_attempt_refused(&attempt, status, text);
    assert!(
        clears_pending(&attempt.reply),
        "{fault:?}: the pending-login cookie is deleted on failure"
    );
    pair
}

#[tokio::test]
async fn bad_signature_is_refused() {
    fails_with(ResponseType::Code, Fault::BadSignature, 400, NOT_VERIFIED).await;
    fails_with(
        ResponseType::IdToken,
        Fault::BadSignature,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn alg_none_is_refused() {
    fails_with(ResponseType::Code, Fault::AlgNone, 400, NOT_VERIFIED).await;
    fails_with(ResponseType::IdToken, Fault::AlgNone, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    fails_with(ResponseType::Code, Fault::WrongIssuer, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    fails_with(
        ResponseType::CodeIdToken,
        Fault::WrongAudience,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn expired_id_token_is_refused() {
    fails_with(ResponseType::Code, Fault::Expired, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn id_token_issued_in_the_future_is_refused() {
    fails_with(ResponseType::IdToken, Fault::IatInFuture, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn nonce_missing_or_wrong_is_refused() {
    fails_with(ResponseType::Code, Fault::OmitNonce, 400, NOT_VERIFIED).await;
    fails_with(ResponseType::Code, Fault::WrongNonce, 400, NOT_VERIFIED).await;
    fails_with(
        ResponseType::IdTokenToken,
        Fault::WrongNonce,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn c_hash_missing_or_wrong_is_refused() {
    for rt in [ResponseType::CodeIdToken, ResponseType::CodeIdTokenToken] {
        fails_with(rt, Fault::OmitCHash, 400, NOT_VERIFIED).await;
        fails_with(rt, Fault::WrongCHash, 400, NOT_VERIFIED).await;
    }
}

#[tokio::test]
async fn at_hash_missing_or_wrong_is_refused() {
    for rt in [ResponseType::IdTokenToken, ResponseType::CodeIdTokenToken] {
        fails_with(rt, Fault::OmitAtHash, 400, NOT_VERIFIED).await;
        fails_with(rt, Fault::WrongAtHash, 400, NOT_VERIFIED).await;
    }
    // Optional at_hash (code flow, token endpoint) is still checked when present.
    fails_with(ResponseType::Code, Fault::WrongAtHash, 400, NOT_VERIFIED).await;
}

#[tokio::test]
async fn token_endpoint_sub_must_match_front_channel() {
    // Without userinfo, so that only the ID token comparison can catch it.
    let pair = Pair::new(|b| {
        b.response_type(ResponseType::CodeIdToken)
            .fetch_userinfo(false)
    })
    .await;
    pair.emulator.set_faults([Fault::TokenSubMismatch]);
    let attempt = pair.attempt(&LoginOptions::new()).await;
    assert_attempt_refused(&attempt, 400, NOT_VERIFIED);
}

#[tokio::test]
async fn userinfo_sub_mismatch_is_refused() {
    fails_with(
        ResponseType::Code,
        Fault::UserinfoWrongSub,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn rfc9207_iss_on_the_callback_is_checked() {
    fails_with(
        ResponseType::Code,
        Fault::WrongIssParameter,
        400,
        NOT_VERIFIED,
    )
    .await;
    // Advertised in discovery but missing: refused.
    fails_with(
        ResponseType::Code,
        Fault::OmitIssParameter,
        400,
        NOT_VERIFIED,
    )
    .await;
    fails_with(
        ResponseType::CodeToken,
        Fault::OmitIssParameter,
        400,
        NOT_VERIFIED,
    )
    .await;
    // A wrong `iss` is refused even beside an ID token.
    fails_with(
        ResponseType::CodeIdToken,
        Fault::WrongIssParameter,
        400,
        NOT_VERIFIED,
    )
    .await;
}

#[tokio::test]
async fn missing_iss_beside_a_verified_id_token_is_accepted() {
    // RFC 9700 §4.4.2.1: the ID token's signed `iss` identifies the issuer.
    let pair = Pair::new(|b| b.response_type(ResponseType::CodeIdToken)).await;
    pair.emulator.set_faults([Fault::OmitIssParameter]);
    let attempt = pair.attempt(&LoginOptions::new()).await;
    assert!(signed_in(&attempt.reply), "{}", attempt.reply.body);
    // …but the ID token's issuer is still checked: a wrong one fails.
    let pair = Pair::new(|b| b.response_type(ResponseType::CodeIdToken)).await;
    pair.emulator
        .set_faults([Fault::OmitIssParameter, Fault::WrongIssuer]);
    let attempt = pair.attempt(&LoginOptions::new()).await;
    assert_attempt_refused(&attempt, 400, NOT_VERIFIED);
    assert_eq!(pair.emulator.stats().token, 0, "no code redeemed");
}

#[tokio::test]
async fn missing_iss_is_fine_when_not_advertised() {
    let config = EmulatorConfig {
        advertise_iss_parameter: false,
        auto_user: Some(Persona::Veteran),
        ..EmulatorConfig::default()
    };
    let pair = Pair::with_emulator(config, |b| b).await.unwrap();
    let attempt = pair.attempt(&LoginOptions::new()).await;
    assert!(signed_in(&attempt.reply), "{}", attempt.reply.body);
}
