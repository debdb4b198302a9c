//! The adapter contract's cases for step-up sign-in: `Fresh<N>`, a route that needs a
//! recent sign-in. Expanded inside [`adapter_contract!`]'s module, whose helpers it uses;
//! the adapter's test app has the route `GET /recent` (`Fresh<300>`: its `sub`). The
//! engine reads the emulator's clock, so moving the emulator's time ages the sign-in.

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
    };
}
