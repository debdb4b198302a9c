//! The adapter contract's case for the security-event receiver: a SET posted to
//! `/auth/events` (signed by a [`SetTransmitter`](crate::set_transmitter::SetTransmitter),
//! not the emulator) is answered `202` and ends the person's session; a wrong content
//! type and a 2 MB body are refused. Expanded inside [`adapter_contract!`]'s module, whose
//! helpers it uses.

/// The case, for [`adapter_contract!`](crate::adapter_contract) (not for direct use).
#[doc(hidden)]
#[macro_export]
macro_rules! __security_events_contract {
    (test = $test:meta) => {
        #[$test]
        async fn contract_a_security_event_is_received_and_ends_the_session() {
            use $crate::set_transmitter::{SetTransmitter, iss_sub, risc_event};
            let emu = emulator().await;
            let transmitter = SetTransmitter::new("rp-events").expect("a key");
            let jwks = transmitter.serve().await.expect("the JWKS is served");
            let idme = engine(builder(&emu).security_events("rp-events", jwks));
            let cookie = sign_in(&idme).await;
            let me = || Call::get("/me").api().header("cookie", cookie.clone());
            assert_eq!(send(&idme, me()).await.status, 200);
            let post = |content_type: &str, body: String| {
                let mut call = Call::post("/auth/events").header("content-type", content_type);
                call.body = body;
                call
            };
            let subject = iss_sub(&emu.issuer(), $crate::Persona::Veteran.sub());
            let claims = transmitter.claims(&risc_event("account-disabled"), subject, emu.now());
            let set = transmitter.sign(&claims);

            let res = send(&idme, post("application/json", set.clone())).await;
            assert_eq!(res.status, 400, "{}", res.body);
            assert_eq!(res.json()["err"], "invalid_request");
            // Refused by the engine's cap (400) or the framework's own (413).
            let huge = "a".repeat(2 * 1024 * 1024);
            let res = send(&idme, post("application/secevent+jwt", huge)).await;
            assert!(matches!(res.status, 400 | 413), "{}", res.status);
            assert_eq!(send(&idme, me()).await.status, 200, "still signed in");

            let res = send(&idme, post("application/secevent+jwt", set)).await;
            assert_eq!(res.status, 202, "{}", res.body);
            assert_eq!(res.header("cache-control"), Some("no-store"));
            let res = send(&idme, me()).await;
            assert_eq!(res.status, 401, "signed out: {}", res.body);
        }
    };
}
