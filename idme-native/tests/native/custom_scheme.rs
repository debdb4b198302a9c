//! A mobile app's private-use scheme redirect (RFC 8252 §7.1), driven through the core's
//! plain-value entry points as a Rust mobile core would.

use idme_core::{Environment, Idme, IdmeBuilder, LoginOptions, TokenAuthMethod};
use idme_testkit::browser::Browser;
use idme_testkit::{Emulator, EmulatorConfig, Persona};

pub(crate) const REDIRECT: &str = "com.example.app:/oauth2redirect";

pub(crate) async fn setup() -> (Emulator, Idme) {
    let emulator = Emulator::start(EmulatorConfig {
        redirect_uris: vec![REDIRECT.into()],
        auto_user: Some(Persona::Veteran),
        public_client: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let config = IdmeBuilder::new()
        .environment(Environment::Custom(emulator.issuer()))
        .client_id(emulator.client_id())
        .token_auth(TokenAuthMethod::None)
        .redirect_uri(REDIRECT)
        .build_native()
        .unwrap();
    (emulator, Idme::new(config))
}

#[tokio::test]
async fn a_private_use_scheme_redirect_signs_in() {
    let (_emulator, idme) = setup().await;
    let now = idme.config().clock().now();
    let login = idme
        .start_native_login(REDIRECT, &LoginOptions::default(), now)
        .await
        .unwrap();
    assert_eq!(login.pending.redirect_uri(), REDIRECT);
    let state = url::Url::parse(&login.authorize_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(login.pending.state_matches(&state));
    assert!(
        !format!("{login:?}").contains(&state),
        "Debug shows no state"
    );
    // The OS hands the app the URL the provider redirected to.
    let page = Browser::new().get(&login.authorize_url).await;
    let location = page.headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let session = idme
        .finish_native_redirect(login.pending, &location, now)
        .await
        .expect("signed in");
    assert_eq!(session.user().given_name(), Some("Vera"));
}

#[tokio::test]
async fn a_redirect_to_another_scheme_or_path_is_refused() {
    let (_emulator, idme) = setup().await;
    let now = idme.config().clock().now();
    for wrong in [
        "com.evil.app:/oauth2redirect?code=c&state=s",
        "com.example.app:/other?code=c&state=s",
        "com.example.app:/oauth2redirect#code=c&state=s",
    ] {
        let login = idme
            .start_native_login(REDIRECT, &LoginOptions::default(), now)
            .await
            .unwrap();
        let e = idme
            .finish_native_redirect(login.pending, wrong, now)
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                idme_core::Error::CallbackRejected(idme_core::error::CallbackRejected::Malformed)
            ),
            "{wrong}: {e:?}"
        );
    }
    // And a login cannot ask for a redirect URI other than the registered one.
    let e = idme
        .start_native_login(
            "com.example.other:/oauth2redirect",
            &LoginOptions::default(),
            now,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("does not match"), "{e}");
}

#[tokio::test]
async fn an_expired_or_stateless_redirect_is_refused_by_the_core() {
    use idme_core::error::CallbackRejected as R;
    let (_emulator, idme) = setup().await;
    let now = idme.config().clock().now();
    let timeout = idme.config().login_timeout().as_secs();
    let options = LoginOptions::default();
    let start = || idme.start_native_login(REDIRECT, &options, now);
    let rejected = |e: idme_core::Error| match e {
        idme_core::Error::CallbackRejected(r) => r,
        other => panic!("{other:?}"),
    };

    // Past the login timeout (the time is passed in: no sleep).
    let login = start().await.unwrap();
    let location = Browser::new().get(&login.authorize_url).await.headers["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let e = idme
        .finish_native_redirect(login.pending, &location, now + timeout + 1)
        .await
        .unwrap_err();
    assert_eq!(rejected(e), R::LoginExpired);

    let login = start().await.unwrap();
    let e = idme
        .finish_native_login(login.pending, "code=abc", now)
        .await
        .unwrap_err();
    assert_eq!(rejected(e), R::MissingState);

    let login = start().await.unwrap();
    let e = idme
        .finish_native_login(login.pending, "state=a&state=b", now)
        .await
        .unwrap_err();
    assert_eq!(rejected(e), R::Malformed);
}
