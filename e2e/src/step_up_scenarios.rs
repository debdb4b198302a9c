//! Step-up sign-in against each example app as a real process: `GET /verified/recent`
//! (`Fresh<300>`) answers `200` JSON for a recent sign-in; for an old one (the emulator
//! answers an `auth_time` a day old) a browser is sent through a login with `max_age` and
//! `prompt=login` and comes back to the page, and an API client gets `401`.

use idme_testkit::browser::Browser;
use idme_testkit::{Fault, Persona};

use crate::process::Target;
use crate::scenarios::{SESSION, sign_in};

/// The login a stale sign-in on `/verified/recent` is sent to (path and query).
const RECENT_LOGIN: &str = "/auth/login?return_to=%2Fverified%2Frecent&max_age=300&prompt=login";

/// `GET /verified/recent` as the contract says.
pub async fn recent_sign_in_guard(package: &str) {
    let target = Target::start(package, &[]).await;
    let url = target.url("/verified/recent");
    // No session: as `/me`.
    assert_eq!(Browser::api_client().get(&url).await.status, 401);

    let browser = Browser::new();
    let page = sign_in(&browser, &target, "/verified/recent").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = page.json();
    assert_eq!(body["sub"], Persona::Veteran.sub(), "{}", page.body);
    assert_eq!(body["recent"], true, "{}", page.body);
    assert!(body["auth_time"].is_u64(), "{}", page.body);

    // A sign-in a day old.
    target.emulator.set_faults([Fault::StaleAuthTime]);
    let old = Browser::new();
    assert_eq!(sign_in(&old, &target, "/me").await.status, 200);
    let api = Browser::api_client();
    api.put_cookie(SESSION, &old.cookie(SESSION).expect("a session"), "/");
    let page = api.get(&url).await;
    assert_eq!(page.status, 401, "{}", page.body);
    let body = page.json();
    assert_eq!(
        body["error"], "insufficient_user_authentication",
        "{}",
        page.body
    );
    assert_eq!(body["max_age"], 300, "{}", page.body);
    assert_eq!(body["login_url"], RECENT_LOGIN, "{}", page.body);

    let page = old.get(&url).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let login = page.location().expect("Location");
    assert_eq!(
        format!("{}?{}", login.path(), login.query().unwrap_or_default()),
        RECENT_LOGIN
    );
    // The provider honours `max_age`: the new sign-in is recent, and the browser is back.
    target.emulator.clear_faults();
    let back = old.navigate(page, None).await;
    assert_eq!(back.status, 200, "{}: {}", back.url, back.body);
    assert_eq!(back.url.path(), "/verified/recent");
    assert_eq!(back.json()["recent"], true, "{}", back.body);
}
