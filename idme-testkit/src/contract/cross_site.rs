//! The adapter contract's cases for single-page apps: the cross-site guard of the
//! application's routes (`IdmeUser`, `Option<IdmeUser>`, `SameOrigin`), the session route,
//! and what a script's `fetch` gets. Expanded inside [`adapter_contract!`]'s module, whose
//! helpers it uses; the adapter's test app has the routes `/act` (`IdmeUser`, every
//! method), `/act-optional` (`POST`, `Option<IdmeUser>`: `hello …`) and `/guarded`
//! (`GET` and `POST`, `SameOrigin` only: `ok`).

/// The cases, for [`adapter_contract!`](crate::adapter_contract) (not for direct use).
#[doc(hidden)]
#[macro_export]
macro_rules! __cross_site_contract {
    (test = $test:meta) => {
        /// `call` with the session `cookie` and the `headers`.
        fn with(mut call: Call, cookie: &str, headers: &[(&'static str, &str)]) -> Call {
            call = call.header("cookie", cookie.to_owned());
            for (name, value) in headers {
                call = call.header(name, *value);
            }
            call
        }

        #[$test]
        async fn contract_a_cookie_request_with_an_unsafe_method_needs_a_same_origin_signal() {
            let emu = emulator().await;
            let idme = engine(builder(&emu));
            let cookie = sign_in(&idme).await;
            let sub = $crate::Persona::Veteran.sub();
            let cases: [(&[(&'static str, &str)], u16); 12] = [
                (&[], 403),
                (&[("origin", ORIGIN)], 200),
                (&[("origin", "https://evil.example")], 403),
                (&[("origin", "http://127.0.0.1:8081")], 403),
                (&[("origin", "null")], 403),
                (
                    &[("origin", "null"), ("sec-fetch-site", "same-origin")],
                    200,
                ),
                (&[("sec-fetch-site", "same-origin")], 200),
                (&[("sec-fetch-site", "none")], 200),
                (&[("sec-fetch-site", "cross-site")], 403),
                (&[("sec-fetch-site", "same-site")], 403),
                (&[("origin", ORIGIN), ("sec-fetch-site", "cross-site")], 403),
                (
                    &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")],
                    200,
                ),
            ];
            for (headers, status) in cases {
                let res = send(&idme, with(Call::post("/act").api(), &cookie, headers)).await;
                assert_eq!(res.status, status, "POST {headers:?}: {}", res.body);
                if status == 403 {
                    assert_eq!(res.json()["error"], "cross_site_request", "{headers:?}");
                } else {
                    assert_eq!(res.body, sub, "{headers:?}");
                }
            }
            // Every unsafe method; safe ones need no signal.
            for method in ["PUT", "PATCH", "DELETE"] {
                let call = Call {
                    method,
                    ..Call::post("/act").api()
                };
                let res = send(&idme, with(call.clone(), &cookie, &[])).await;
                assert_eq!(res.status, 403, "{method}: {}", res.body);
                let res = send(&idme, with(call, &cookie, &[("origin", ORIGIN)])).await;
                assert_eq!(res.status, 200, "{method}: {}", res.body);
            }
            let res = send(&idme, with(Call::get("/act").api(), &cookie, &[])).await;
            assert_eq!(res.status, 200, "GET: {}", res.body);
            // A form posted from another site, in a browser: a page, and no session change.
            let cross = [
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-mode", "navigate"),
            ];
            let res = send(&idme, with(Call::post("/act").browser(), &cookie, &cross)).await;
            assert_eq!(res.status, 403, "{}", res.body);
            assert!(
                res.header("content-type")
                    .unwrap_or_default()
                    .starts_with("text/html")
            );
            assert!(res.set_cookies().is_empty(), "{:?}", res.headers);
            let res = send(&idme, with(Call::get("/me").api(), &cookie, &[])).await;
            assert_eq!(res.status, 200, "still signed in: {}", res.body);
        }

        #[$test]
        async fn contract_the_guard_concerns_cookie_requests_only() {
            let emu = emulator().await;
            let bearer = idme_core::test_util::AcceptingBearer;
            let idme = engine_with(builder(&emu), bearer);
            // Signed out: nobody to act as, whatever the signal.
            let res = send(&idme, Call::post("/act").api()).await;
            assert_eq!(res.status, 401, "{}", res.body);
            // A bearer token carries no ambient authority.
            let token = [
                ("authorization", "Bearer accepted.x"),
                ("sec-fetch-site", "cross-site"),
            ];
            let res = send(&idme, with(Call::post("/act").api(), "", &token)).await;
            assert_eq!(res.status, 200, "{}", res.body);
            assert_eq!(res.body, idme_core::test_util::BEARER_USER);
            // `Option<IdmeUser>` is refused too, never "anonymous" for a forged request.
            let cookie = sign_in(&idme).await;
            let res = send(&idme, with(Call::post("/act-optional").api(), &cookie, &[])).await;
            assert_eq!(res.status, 403, "{}", res.body);
            let same = [("origin", ORIGIN)];
            let res = send(
                &idme,
                with(Call::post("/act-optional").api(), &cookie, &same),
            )
            .await;
            assert_eq!(
                res.body,
                format!("hello {}", $crate::Persona::Veteran.sub())
            );
            // `SameOrigin` alone, for a route that does not ask for the user.
            let res = send(&idme, with(Call::post("/guarded").api(), &cookie, &[])).await;
            assert_eq!(res.status, 403, "{}", res.body);
            let res = send(&idme, with(Call::post("/guarded").api(), &cookie, &same)).await;
            assert_eq!((res.status, res.body.as_str()), (200, "ok"));
            let res = send(&idme, Call::get("/guarded").api()).await;
            assert_eq!((res.status, res.body.as_str()), (200, "ok"));
            let res = send(&idme, with(Call::post("/guarded").api(), "", &token)).await;
            assert_eq!((res.status, res.body.as_str()), (200, "ok"));
        }

        #[$test]
        async fn contract_trusted_origins_are_exact() {
            let emu = emulator().await;
            let idme = engine(builder(&emu).trusted_origin("https://spa.example.net"));
            let cookie = sign_in(&idme).await;
            let trusted = [
                ("origin", "https://spa.example.net"),
                ("sec-fetch-site", "cross-site"),
            ];
            let res = send(&idme, with(Call::post("/act").api(), &cookie, &trusted)).await;
            assert_eq!(res.status, 200, "{}", res.body);
            for origin in [
                "https://spa.example.net:8443",
                "http://spa.example.net",
                "https://x.spa.example.net",
            ] {
                let other = [("origin", origin), ("sec-fetch-site", "cross-site")];
                let res = send(&idme, with(Call::post("/act").api(), &cookie, &other)).await;
                assert_eq!(res.status, 403, "{origin}: {}", res.body);
            }
        }

        #[$test]
        async fn contract_a_script_gets_json_never_a_redirect() {
            let emu = emulator().await;
            let idme = engine(builder(&emu));
            // A `fetch` asking for HTML, signed out: 401 JSON.
            let fetch = [
                ("sec-fetch-mode", "cors"),
                ("sec-fetch-site", "same-origin"),
            ];
            let res = send(&idme, with(Call::get("/me").browser(), "", &fetch)).await;
            assert_eq!(res.status, 401, "{}", res.body);
            assert_eq!(res.json()["error"], "unauthenticated");
            // The session route, signed out and in, never a redirect.
            let res = send(&idme, Call::get("/auth/session").browser()).await;
            assert_eq!(res.status, 200, "{}", res.body);
            let body = res.json();
            assert_eq!(body["signed_in"], false);
            assert!(
                body["user"].is_null() && body["expires_at"].is_null(),
                "{body}"
            );
            assert_eq!(
                (body["login_url"].as_str(), body["logout_url"].as_str()),
                (Some("/auth/login"), Some("/auth/logout"))
            );
            assert_eq!(res.header("cache-control"), Some("no-store"));
            let cookie = sign_in(&idme).await;
            let res = send(&idme, with(Call::get("/auth/session"), &cookie, &fetch)).await;
            let body = res.json();
            assert_eq!(body["signed_in"], true, "{body}");
            assert_eq!(body["user"]["sub"], $crate::Persona::Veteran.sub());
            assert!(body["expires_at"].as_u64().is_some(), "{body}");
            // Logout from a script: JSON; cross-site refused, then same-origin done.
            let cross = [("sec-fetch-mode", "cors"), ("sec-fetch-site", "cross-site")];
            let res = send(&idme, with(Call::post("/auth/logout"), &cookie, &cross)).await;
            assert_eq!(res.status, 403, "{}", res.body);
            assert_eq!(res.json()["error"], "cross_site_request");
            let res = send(&idme, with(Call::post("/auth/logout"), &cookie, &fetch)).await;
            assert_eq!(res.status, 200, "{}", res.body);
            assert_eq!(res.json()["signed_out"], true);
            assert!(
                res.set_cookies().iter().any(|c| c.contains("Max-Age=0")),
                "{:?}",
                res.headers
            );
            let res = send(&idme, with(Call::get("/me").api(), &cookie, &[])).await;
            assert_eq!(res.status, 401, "signed out: {}", res.body);
        }
    };
}
