//! The contract every framework adapter of idme-core answers identically, as one macro:
//! [`adapter_contract!`](crate::adapter_contract) drives an adapter in-process (no TCP to
//! the app; the engine talks to an [`Emulator`](crate::Emulator) on loopback) through the
//! same cases. This module holds its framework-neutral request and answer types; the
//! single-page-app cases are in `cross_site`, the step-up ones in
//! `step_up`, the security-event receiver's in `security_events`.

mod cross_site;
mod metrics;
mod security_events;
mod step_up;

/// The redirect URI the contract's engines are registered with (never listened on: the app
/// is called in-process).
pub const REDIRECT: &str = "http://127.0.0.1:8080/auth/callback";
/// The application's origin, as a same-origin logout sends it.
pub const ORIGIN: &str = "http://127.0.0.1:8080";
/// The master secret sealing the contract's cookies.
pub const COOKIE_KEY: [u8; 32] = [0xc7; 32];

/// A request for the adapter under test.
#[derive(Debug, Clone)]
pub struct Call {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    /// Headers (lower-case names).
    pub headers: Vec<(&'static str, String)>,
    /// The body (empty but for a `form_post` callback).
    pub body: String,
}

impl Call {
    /// A `GET` on `path`.
    pub fn get(path: &str) -> Self {
        Self {
            method: "GET",
            path: path.to_owned(),
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// A `POST` on `path`, without a body.
    pub fn post(path: &str) -> Self {
        Self {
            method: "POST",
            ..Self::get(path)
        }
    }

    /// A `POST` of the form `body` (URL-encoded) on `path`.
    pub fn form(path: &str, body: String) -> Self {
        let call = Self::post(path).header("content-type", "application/x-www-form-urlencoded");
        Self { body, ..call }
    }

    /// With one more header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// As a browser asks: `Accept: text/html`.
    pub fn browser(self) -> Self {
        self.header("accept", "text/html,application/xhtml+xml")
    }

    /// As an API client asks: `Accept: application/json`.
    pub fn api(self) -> Self {
        self.header("accept", "application/json")
    }
}

/// What the adapter answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Every header (lower-case names), `Set-Cookie` once per cookie.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The cookies set (not cleared) as `name=value` pairs joined for a `Cookie` header.
    pub fn cookie_header(&self) -> String {
        self.set_cookies()
            .into_iter()
            .filter(|c| !c.contains("Max-Age=0"))
            .filter_map(|c| c.split(';').next())
            .filter(|pair| pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The body as JSON (panics, with the body, when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The provider's side of a sign-in: follows the authorization URL to the emulator (which
/// signs its automatic user in) and returns the path and query of the callback it sends
/// the browser to.
pub async fn authorize(url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let res = http.get(url).send().await.expect("the emulator answers");
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no redirect from the emulator: {}", res.status()))
        .to_owned();
    location
        .strip_prefix(ORIGIN)
        .unwrap_or_else(|| panic!("not back to the app: {location}"))
        .to_owned()
}

/// The provider's side of a `form_post` sign-in: the fields of the auto-submitting form the
/// emulator answers the authorization URL with, URL-encoded for the callback.
pub async fn authorize_form_post(url: &str) -> String {
    let res = reqwest::get(url).await.expect("the emulator answers");
    assert_eq!(res.status(), 200, "a form_post page");
    let page = res.text().await.expect("a page");
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for input in page.split("<input").skip(1) {
        let attr = |name: &str| {
            let (_, rest) = input.split_once(&format!("{name}=\""))?;
            Some(rest.split_once('"')?.0.replace("&amp;", "&"))
        };
        if let (Some(name), Some(value)) = (attr("name"), attr("value")) {
            form.append_pair(&name, &value);
        }
    }
    form.finish()
}

/// Generates the adapter contract's tests in the invoking module.
///
/// `call` names an `async fn(Option<idme_core::Idme>, Call) -> Answer` that sends one
/// request to a fresh app with the adapter set up around the engine (`None`: the adapter
/// set up as fully as it can be without registering the engine) and these routes besides
/// the adapter's own:
///
/// - `GET /`: `Option<IdmeUser>`, answers `hello SUB` or `hello stranger`;
/// - `GET /me`: `IdmeUser`, answers its `sub`;
/// - `GET /student`: `Verified<idme_core::require::Student>`, answers its `sub`;
/// - `GET /why`: `Result<Verified<idme_core::require::Student>, IdmeRejection>`, answers
///   `200` with its `sub`, or `200` with `adapter_contract::why(rejection.reason())` (the
///   handler matching on the rejection's reason and answering on its own);
/// - `GET /recent`: `Fresh<300>`, answers its `sub`;
/// - the routes the single-page-app cases use (see `__cross_site_contract!`).
///
/// `setup` is the setup call the `500` of a missing engine must name; `test` the async
/// test attribute of the framework. `without_engine_nothing_runs = true` is for a framework
/// where leaving the engine out leaves out every hook of the adapter (Rocket without its
/// fairing): the framework's own `500` answers, and `Option<IdmeUser>` is `None`. The invoking crate needs `idme-core` with its
/// `test-util` feature, and `metrics` and `metrics-util` (the metrics case, see
/// `__metrics_contract!`).
///
/// ```ignore
/// idme_testkit::adapter_contract!(test = tokio::test, call = call, setup = "IdmeLayer::new");
/// ```
#[macro_export]
macro_rules! adapter_contract {
    (
        test = $test:meta,
        call = $call:ident,
        setup = $setup:expr
        $(, without_engine_nothing_runs = $silent:literal)?
        $(,)?
    ) => {
        mod adapter_contract {
            use super::$call as drive;
            use $crate::contract::{Answer, Call, ORIGIN};

            async fn emulator() -> $crate::Emulator {
                $crate::Emulator::start($crate::EmulatorConfig {
                    redirect_uris: vec![$crate::contract::REDIRECT.to_owned()],
                    auto_user: Some($crate::Persona::Veteran),
                    ..Default::default()
                })
                .await
                .expect("the emulator starts")
            }

            fn builder(emu: &$crate::Emulator) -> idme_core::IdmeBuilder {
                let keys = idme_core::CookieKeys::from_masters([$crate::contract::COOKIE_KEY]);
                idme_core::IdmeBuilder::new()
                    .environment(idme_core::Environment::Custom(emu.issuer()))
                    .client_id(emu.client_id())
                    .client_secret(emu.client_secret())
                    .redirect_uri($crate::contract::REDIRECT)
                    .cookie_keys(keys.expect("a cookie key"))
            }

            /// What `GET /why` answers for a rejection: the handler's own page.
            pub(super) fn why(reason: &idme_core::adapter::RejectionReason) -> String {
                use idme_core::adapter::RejectionReason as R;
                match reason {
                    R::NotSignedIn(e) => format!("not signed in: {}", e.code()),
                    R::NotVerified { requirement, verify_url } => {
                        format!("not verified: {requirement:?} at {verify_url}")
                    }
                    R::StoreUnavailable(e) => format!("store unavailable: {}", e.code()),
                    R::InvalidBearer(e) => format!("invalid bearer: {}", e.code()),
                    other => format!("other: {other}"),
                }
            }

            fn engine(builder: idme_core::IdmeBuilder) -> idme_core::Idme {
                idme_core::Idme::new(builder.build().expect("a valid configuration"))
            }

            fn engine_with(
                builder: idme_core::IdmeBuilder,
                extension: impl idme_core::extension::Extension,
            ) -> idme_core::Idme {
                let config = builder.build().expect("a valid configuration");
                idme_core::Idme::builder(config)
                    .extension(extension)
                    .build()
                    .expect("the extension accepts the configuration")
            }

            async fn send(idme: &idme_core::Idme, call: Call) -> Answer {
                drive(Some(idme.clone()), call).await
            }

            /// Signs the emulator's veteran in; the session's `Cookie` header.
            async fn sign_in(idme: &idme_core::Idme) -> String {
                let login = send(idme, Call::get("/auth/login?return_to=/me")).await;
                assert_eq!(login.status, 303, "{login:?}");
                let back = $crate::contract::authorize(login.header("location").unwrap()).await;
                let cookie = login.cookie_header();
                let done = send(idme, Call::get(&back).header("cookie", cookie)).await;
                assert_eq!(done.status, 303, "{}", done.body);
                assert_eq!(done.header("location"), Some("/me"));
                done.cookie_header()
            }

            #[$test]
            async fn contract_without_a_session_api_clients_get_401_and_browsers_a_redirect() {
                let emu = emulator().await;
                let idme = engine(builder(&emu));
                let res = send(&idme, Call::get("/me").api()).await;
                assert_eq!(res.status, 401, "{}", res.body);
                assert_eq!(res.json()["error"], "unauthenticated");
                let res = send(&idme, Call::get("/me?tab=1").browser()).await;
                assert_eq!(res.status, 303, "{}", res.body);
                assert_eq!(res.header("location"), Some("/auth/login?return_to=%2Fme%3Ftab%3D1"));
                let res = send(&idme, Call::get("/student").api()).await;
                assert_eq!(res.status, 401, "{}", res.body);
                let res = send(&idme, Call::get("/").api()).await;
                assert_eq!((res.status, res.body.as_str()), (200, "hello stranger"));
            }

            #[$test]
            async fn contract_signs_in_with_form_post() {
                let emu = emulator().await;
                let mode = idme_core::ResponseMode::FormPost;
                let idme = engine(builder(&emu).response_mode(mode));
                let login = send(&idme, Call::get("/auth/login?return_to=/me")).await;
                assert_eq!(login.status, 303, "{login:?}");
                let form = $crate::contract::authorize_form_post(login.header("location").unwrap());
                let callback = Call::form("/auth/callback", form.await);
                let done = send(&idme, callback.header("cookie", login.cookie_header())).await;
                assert_eq!(done.status, 303, "{}", done.body);
                assert_eq!(done.header("location"), Some("/me"));
                assert!(
                    done.set_cookies().iter().any(|c| c.contains("Max-Age=0")),
                    "the pending-login cookie is deleted: {:?}",
                    done.headers
                );
                let me = send(&idme, Call::get("/me").header("cookie", done.cookie_header())).await;
                assert_eq!((me.status, me.body.as_str()), (200, $crate::Persona::Veteran.sub()));
            }

            #[$test]
            async fn contract_a_signed_in_user_is_found() {
                let emu = emulator().await;
                let idme = engine(builder(&emu));
                let cookie = sign_in(&idme).await;
                let sub = $crate::Persona::Veteran.sub();
                let res = send(&idme, Call::get("/me").api().header("cookie", cookie.clone())).await;
                assert_eq!((res.status, res.body.as_str()), (200, sub));
                let res = send(&idme, Call::get("/").header("cookie", cookie)).await;
                assert_eq!(res.body, format!("hello {sub}"));
            }

            #[$test]
            async fn contract_a_stale_session_cookie_is_cleared_also_for_optional_users() {
                let emu = emulator().await;
                let idme = engine(builder(&emu));
                let name = idme.config().session_cookie_name();
                for path in ["/me", "/"] {
                    let stale = format!("{name}=not-a-sealed-session");
                    let res = send(&idme, Call::get(path).api().header("cookie", stale)).await;
                    assert!(
                        res.set_cookies().iter().any(|c| c.starts_with(&format!("{name}=;"))
                            && c.contains("Max-Age=0")),
                        "{path}: {:?}",
                        res.headers
                    );
                }
            }

            #[$test]
            async fn contract_a_session_store_that_is_down_is_503_also_for_optional_users() {
                let emu = emulator().await;
                let up = engine(builder(&emu).session_store(idme_core::MemoryStore::new()));
                let cookie = sign_in(&up).await;
                let down = builder(&emu).session_store(idme_core::test_util::UnavailableStore);
                let down = engine(down);
                for path in ["/", "/me", "/student"] {
                    let call = Call::get(path).api().header("cookie", cookie.clone());
                    let res = send(&down, call).await;
                    assert_eq!(res.status, 503, "{path}: {}", res.body);
                    assert_eq!(res.json()["error"], "session_store_unavailable", "{path}");
                    let call = Call::get(path).browser().header("cookie", cookie.clone());
                    let res = send(&down, call).await;
                    assert_eq!(res.status, 503, "{path}: {}", res.body);
                    assert!(res.body.contains("<html"), "{path}: {}", res.body);
                }
            }

            #[$test]
            async fn contract_a_missing_engine_is_a_500_naming_the_setup_call() {
                let silent = false $(|| $silent)?;
                for path in ["/", "/me", "/student"] {
                    let res = drive(None, Call::get(path).browser()).await;
                    if silent && path == "/" {
                        // Nothing of the adapter runs on the response to answer for `Option`.
                        assert_eq!((res.status, res.body.as_str()), (200, "hello stranger"));
                        continue;
                    }
                    assert_eq!(res.status, 500, "{path}: {}", res.body);
                    if !silent {
                        assert!(res.body.contains($setup), "{path}: {}", res.body);
                    }
                }
            }

            #[$test]
            async fn contract_a_user_without_the_verification_gets_403_json_or_a_page() {
                let emu = emulator().await;
                let idme = engine(builder(&emu));
                let cookie = sign_in(&idme).await;
                let res = send(&idme, Call::get("/student").api().header("cookie", cookie.clone())).await;
                assert_eq!(res.status, 403, "{}", res.body);
                let body = res.json();
                assert_eq!(body["error"], "verification_required");
                let verify = body["verify_url"].as_str().unwrap();
                assert!(verify.starts_with("/auth/login?policy="), "{verify}");
                assert!(verify.ends_with("&return_to=%2Fstudent"), "{verify}");
                let res = send(&idme, Call::get("/student").browser().header("cookie", cookie)).await;
                assert_eq!(res.status, 403, "{}", res.body);
                assert!(res.body.contains("Verification required"), "{}", res.body);
                assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
            }

            #[$test]
            async fn contract_a_handler_matches_on_the_rejection_reason() {
                let emu = emulator().await;
                let bearer = idme_core::test_util::RefusingBearer;
                let idme = engine_with(builder(&emu), bearer);
                let why = |res: Answer| {
                    assert_eq!(res.status, 200, "the handler answers: {}", res.body);
                    res.body
                };
                // Not signed in.
                let res = send(&idme, Call::get("/why").browser()).await;
                assert_eq!(why(res), "not signed in: unauthenticated");
                // Not verified, with the requirement and where to verify.
                let cookie = sign_in(&idme).await;
                let res = send(&idme, Call::get("/why").api().header("cookie", cookie.clone())).await;
                let body = why(res);
                assert!(body.starts_with("not verified: Group(Student) at /auth/login?policy="), "{body}");
                assert!(body.ends_with("&return_to=%2Fwhy"), "{body}");
                // A bad bearer token: the handler's answer stands.
                let call = Call::get("/why").api().header("authorization", "Bearer refused.abc");
                let res = send(&idme, call).await;
                assert_eq!(why(res), "invalid bearer: invalid_token");
                // The session store down: the handler's answer stands.
                let down = builder(&emu).session_store(idme_core::test_util::UnavailableStore);
                let down = engine(down);
                let up = engine(builder(&emu).session_store(idme_core::MemoryStore::new()));
                let cookie = sign_in(&up).await;
                let res = send(&down, Call::get("/why").browser().header("cookie", cookie)).await;
                assert_eq!(why(res), "store unavailable: session_store_unavailable");
                // Where the handler lets the rejection pass unread, the outage is answered.
                let call = Call::get("/").api().header("authorization", "Bearer refused.abc");
                let res = send(&idme, call).await;
                assert_eq!(res.status, 401, "{}", res.body);
            }

            #[$test]
            async fn contract_logout_refuses_a_cross_site_request() {
                let emu = emulator().await;
                let idme = engine(builder(&emu));
                let cookie = sign_in(&idme).await;
                let signals: [&[(&'static str, &str)]; 4] = [
                    &[],
                    &[("sec-fetch-site", "cross-site")],
                    &[("sec-fetch-site", "same-site")],
                    &[("origin", "https://evil.example")],
                ];
                for headers in signals {
                    let mut call = Call::post("/auth/logout").header("cookie", cookie.clone());
                    for (name, value) in headers {
                        call = call.header(name, *value);
                    }
                    let res = send(&idme, call).await;
                    assert_eq!(res.status, 403, "{headers:?}: {}", res.body);
                }
                let res = send(&idme, Call::get("/me").api().header("cookie", cookie.clone())).await;
                assert_eq!(res.status, 200, "still signed in: {}", res.body);
                let same = Call::post("/auth/logout").header("cookie", cookie.clone());
                let res = send(&idme, same.header("sec-fetch-site", "same-origin")).await;
                assert_eq!(res.status, 303, "{}", res.body);
                let res = send(&idme, Call::get("/me").api().header("cookie", cookie.clone())).await;
                assert_eq!(res.status, 401, "signed out: {}", res.body);
                let same = Call::post("/auth/logout").header("origin", ORIGIN);
                assert_eq!(send(&idme, same).await.status, 303, "Origin alone is enough");
            }

            $crate::__cross_site_contract!(test = $test);

            $crate::__step_up_contract!(test = $test);

            $crate::__security_events_contract!(test = $test);

            $crate::__metrics_contract!(test = $test);

            #[$test]
            async fn contract_a_refreshed_session_is_set_on_the_response() {
                let emu = emulator().await;
                // The emulator's access tokens live 300 s: every new session is due at once.
                let margin = std::time::Duration::from_secs(400);
                let idme = engine(builder(&emu).refresh_margin(margin));
                let name = idme.config().session_cookie_name();
                for path in ["/me", "/", "/student"] {
                    // A session of its own for each route: its first request refreshes.
                    let cookie = sign_in(&idme).await;
                    let res = send(&idme, Call::get(path).api().header("cookie", cookie.clone())).await;
                    let fresh = res.cookie_header();
                    assert!(fresh.starts_with(&format!("{name}=")), "{path}: {:?}", res.headers);
                    assert_ne!(fresh, cookie, "{path}");
                    // The refreshed session presented within the grace period: nothing to
                    // renew, so nothing is set.
                    let again = send(&idme, Call::get(path).api().header("cookie", fresh.clone())).await;
                    assert!(
                        !again.cookie_header().starts_with(&format!("{name}=")),
                        "{path}: {:?}",
                        again.headers
                    );
                }
            }
        }
    };
}
