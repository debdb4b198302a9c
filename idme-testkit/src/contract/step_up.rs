//! The adapter contract's cases for step-up sign-in: `Fresh<N>`, a route that needs a
//! recent sign-in. Expanded inside [`adapter_contract!`]'s module, whose helpers it uses;
//! the adapter's test app has the routes `GET /recent` (`Fresh<300>`: its `sub`) and
//! `GET /assured` (`Assured<idme_core::require::Aal2>`: its `sub`). The engine reads the
//! emulator's clock, so moving the emulator's time ages the sign-in.

/// The cases, for [`adapter_contract!`](crate::adapter_contract) (not for direct use).
#[doc(hidden)]
#[macro_export]
macro_rules! __step_up_contract {
    (test = $test:meta) => {
        /// The login a `Fresh<300>` on `/recent` sends a browser to.
        const RECENT_LOGIN: &str = "/auth/login?return_to=%2Frecent&max_age=300&prompt=login";

        #[$test]
        async fn contract_an_old_sign_in_is_sent_through_a_login_with_max_age_and_comes_back() {
            let emu = emulator().await;
            let clock = {
                let emu = emu.clone();
                idme_core::Clock::from_fn(move || emu.now())
            };
            let idme = engine(builder(&emu).dangerous().clock(clock).safe());
            let cookie = sign_in(&idme).await;
            let sub = $crate::Persona::Veteran.sub();
            let recent = |cookie: &str| Call::get("/recent").header("cookie", cookie.to_owned());
            let res = send(&idme, recent(&cookie).browser()).await;
            assert_eq!(
                (res.status, res.body.as_str()),
                (200, sub),
                "a recent sign-in"
            );

            // Past 300 s and the clock skew (60 s).
            emu.advance_clock(std::time::Duration::from_secs(361));
            let res = send(&idme, recent(&cookie).api()).await;
            assert_eq!(res.status, 401, "{}", res.body);
            let body = res.json();
            assert_eq!(body["error"], "insufficient_user_authentication");
            assert_eq!(body["max_age"], 300);
            assert_eq!(body["login_url"], RECENT_LOGIN);
            let res = send(&idme, recent(&cookie).browser()).await;
            assert_eq!(res.status, 303, "{}", res.body);
            assert_eq!(res.header("location"), Some(RECENT_LOGIN));

            // The login asks ID.me for a recent sign-in and comes back to the page.
            let login = send(&idme, Call::get(RECENT_LOGIN).browser()).await;
            assert_eq!(login.status, 303, "{login:?}");
            let authorize = login.header("location").unwrap();
            assert!(authorize.contains("max_age=300"), "{authorize}");
            assert!(authorize.contains("prompt=login"), "{authorize}");
            let back = $crate::contract::authorize(authorize).await;
            let done = send(
                &idme,
                Call::get(&back).header("cookie", login.cookie_header()),
            )
            .await;
            assert_eq!(done.status, 303, "{}", done.body);
            assert_eq!(done.header("location"), Some("/recent"));
            let fresh = done.cookie_header();
            assert_ne!(fresh, cookie, "a new session");
            // No loop: the new session passes.
            let res = send(&idme, recent(&fresh).browser()).await;
            assert_eq!(
                (res.status, res.body.as_str()),
                (200, sub),
                "the new sign-in"
            );
        }

        /// The login an `Assured<Aal2>` on `/assured` sends a browser to.
        const ASSURED_LOGIN: &str = "/auth/login?return_to=%2Fassured&acr_values=http%3A%2F%2Fidmanagement.gov%2Fns%2Fassurance%2Faal%2F2+http%3A%2F%2Fidmanagement.gov%2Fns%2Fassurance%2Fial%2F2%2Faal%2F2&prompt=login";

        #[$test]
        async fn contract_a_sign_in_below_the_assurance_steps_up_with_acr_values_and_only_a_matching_one_replaces_it() {
            let emu = emulator().await;
            let idme = engine(builder(&emu));
            let cookie = sign_in(&idme).await;
            let sub = $crate::Persona::Veteran.sub();
            let assured = |cookie: &str| Call::get("/assured").header("cookie", cookie.to_owned());
            let me = |cookie: &str| Call::get("/me").header("cookie", cookie.to_owned());

            // Signed in without an `acr`: below AAL2.
            let res = send(&idme, assured(&cookie).api()).await;
            assert_eq!(res.status, 401, "{}", res.body);
            let body = res.json();
            assert_eq!(body["error"], "insufficient_user_authentication");
            assert_eq!(
                body["acr_values"],
                "http://idmanagement.gov/ns/assurance/aal/2 http://idmanagement.gov/ns/assurance/ial/2/aal/2"
            );
            assert_eq!(body["login_url"], ASSURED_LOGIN);
            let res = send(&idme, assured(&cookie).browser()).await;
            assert_eq!(res.status, 303, "{}", res.body);
            assert_eq!(res.header("location"), Some(ASSURED_LOGIN));

            // A provider answering another `acr`: the login fails, the old session stays.
            emu.set_faults([$crate::Fault::WrongAcr]);
            let login = send(&idme, Call::get(ASSURED_LOGIN).browser()).await;
            let back = $crate::contract::authorize(login.header("location").unwrap()).await;
            let failed = send(&idme, Call::get(&back).header("cookie", login.cookie_header())).await;
            assert!((400..500).contains(&failed.status), "{failed:?}");
            assert!(
                !failed.cookie_header().contains("idme_session"),
                "no new session: {failed:?}"
            );
            let res = send(&idme, me(&cookie).api()).await;
            assert_eq!((res.status, res.body.as_str()), (200, sub), "the old session stays");
            emu.clear_faults();

            // The login asks ID.me for AAL2 and comes back to the page, signed in at it.
            let login = send(&idme, Call::get(ASSURED_LOGIN).browser()).await;
            assert_eq!(login.status, 303, "{login:?}");
            let authorize = login.header("location").unwrap();
            assert!(authorize.contains("acr_values=http%3A%2F%2Fidmanagement.gov%2Fns%2Fassurance%2Faal%2F2"), "{authorize}");
            assert!(authorize.contains("prompt=login"), "{authorize}");
            let back = $crate::contract::authorize(authorize).await;
            let done = send(&idme, Call::get(&back).header("cookie", login.cookie_header())).await;
            assert_eq!(done.status, 303, "{}", done.body);
            assert_eq!(done.header("location"), Some("/assured"));
            let stepped_up = done.cookie_header();
            assert_ne!(stepped_up, cookie, "a new session");
            // No loop: the new session passes.
            let res = send(&idme, assured(&stepped_up).browser()).await;
            assert_eq!((res.status, res.body.as_str()), (200, sub), "the stepped-up sign-in");
        }
    };
}
