//! Signing in through any engine whose provider is an emulator on loopback (not a
//! [`Pair`](super::Pair)'s): the tests of a session store, where each engine is built by
//! hand around the store under test.

use idme_core::{CallbackInput, Idme, RequestCookies, SetCookie};

use crate::browser::Browser;

/// The cookies `set` leaves in a browser, as a request's `Cookie` header.
pub fn cookies_after(set: &[SetCookie]) -> RequestCookies {
    let header = set
        .iter()
        .filter(|c| c.max_age > 0)
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    RequestCookies::from_header_values([header.as_str()])
}

/// Signs in through `idme` in-process, its provider an [`Emulator`](crate::Emulator) on
/// loopback answering at once (`auto_user`); returns the session's cookies.
///
/// # Panics
/// When the sign-in does not succeed (the message has the engine's answer).
pub async fn sign_in_through(idme: &Idme) -> RequestCookies {
    let start = idme.login(None).await;
    assert_eq!(start.status, 303, "{}", start.body);
    let pending = cookies_after(&start.set_cookies);
    let location = start.header("location").expect("the login redirects");
    let at_provider = Browser::api_client().get(location).await;
    let back = at_provider.location().expect("the emulator redirects back");
    let done = idme
        .callback(CallbackInput::get(back.query()), &pending)
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    cookies_after(&done.set_cookies)
}
