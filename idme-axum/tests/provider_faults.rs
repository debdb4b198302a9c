//! Every provider endpoint × every way an HTTP answer can go wrong, as a table: each case
//! ends in bounded time with a clear page and the right status, no session, no panic, and
//! the app serving the next request.
//!
//! | endpoint | when it is called | expected outcome of a fault |
//! |---|---|---|
//! | discovery | `GET /auth/login` (first login) | error page at the login route, no login started |
//! | JWKS | callback, verifying the ID token | error page at the callback, no session |
//! | token | callback, redeeming the code | error page at the callback, no session |
//! | refresh | a signed-in request whose access token is due | answered 200 as the signed-in user, session kept (provider down) |
//! | userinfo | callback, after the code exchange | error page at the callback, no session |
//! | attributes | callback, after the refresh for a second access token | error page at the callback, no session |
//!
//! | failure | status | page says |
//! |---|---|---|
//! | hang | 504 | took too long |
//! | 5xx (HTML) | 502 | cannot be reached |
//! | garbage body (200, JSON content type) | 502 | could not read |
//! | huge body (endless) | 502 | could not read |
//! | trickling body | 504 | took too long |
//! | connection reset | 502 | cannot be reached |
//! | wrong content type (`text/html`) | 502 | could not read |

mod common;

use std::time::{Duration, Instant};

use common::{Rig, SESSION};
use idme_testkit::browser::Browser;
use idme_testkit::{Fault, HttpEndpoint, HttpFailure};

/// The engine's timeout per provider call in these tests.
const HTTP_TIMEOUT: Duration = Duration::from_secs(2);
/// The most a faulty request may take: the timeout plus room for a loaded machine.
const BOUND: Duration = Duration::from_secs(8);

const ENDPOINTS: [HttpEndpoint; 6] = [
    HttpEndpoint::Discovery,
    HttpEndpoint::Jwks,
    HttpEndpoint::Token,
    HttpEndpoint::Refresh,
    HttpEndpoint::Userinfo,
    HttpEndpoint::Attributes,
];

/// Each failure with the status and the words of the page it must give.
const FAILURES: [(HttpFailure, u16, &str); 7] = [
    (HttpFailure::Hang, 504, "took too long"),
    (HttpFailure::ServerError, 502, "cannot be reached"),
    (HttpFailure::Garbage, 502, "could not read"),
    (HttpFailure::Huge, 502, "could not read"),
    (HttpFailure::Trickle, 504, "took too long"),
    (HttpFailure::Reset, 502, "cannot be reached"),
    (HttpFailure::WrongContentType, 502, "could not read"),
];

/// The visible text of a page, cut short for a failure message.
fn short(body: &str) -> String {
    let text = body.rsplit("<body>").next().unwrap_or(body);
    text.chars().take(160).collect()
}

async fn run_case(endpoint: HttpEndpoint, failure: HttpFailure, status: u16, words: &str) {
    let case = format!("{endpoint:?} × {failure:?}");
    // A refresh is due on every signed-in request (the emulator's access tokens live 300 s).
    let rig = Rig::with(|b| {
        b.http_timeout(HTTP_TIMEOUT)
            .refresh_margin(Duration::from_secs(3600))
    })
    .await;
    let fault = Fault::Http { endpoint, failure };
    let browser = Browser::new();

    if endpoint == HttpEndpoint::Refresh {
        // Sign in, stopping at the callback (the next request is the first to refresh).
        let start = browser.get(&rig.url("/auth/login?return_to=/me")).await;
        let done = browser
            .navigate(start, Some(&rig.url("/auth/callback")))
            .await;
        assert_eq!(done.status, 303, "{case}: signed in: {}", done.body);
        assert!(browser.cookie(SESSION).is_some(), "{case}");
        rig.emulator.set_faults([fault]);
        let started = Instant::now();
        let me = browser.get(&rig.url("/me")).await;
        let took = started.elapsed();
        assert!(took < BOUND, "{case}: took {took:?}");
        if status == 504 {
            assert!(
                took >= HTTP_TIMEOUT,
                "{case}: the refresh was tried: {took:?}"
            );
        }
        assert_eq!(me.status, 200, "{case}: session kept: {}", short(&me.body));
        assert_eq!(
            me.json()["sub"],
            idme_testkit::Persona::Veteran.sub(),
            "{case}"
        );
        assert!(
            me.set_cookie(SESSION)
                .is_none_or(|c| !c.contains("Max-Age=0")),
            "{case}: the session is not deleted"
        );
        rig.emulator.clear_faults();
        assert_eq!(
            browser.get(&rig.url("/me")).await.status,
            200,
            "{case}: next request"
        );
        return;
    }

    rig.emulator.set_faults([fault]);
    let started = Instant::now();
    let page = rig.sign_in(&browser, "/me").await;
    let took = started.elapsed();
    assert!(took < BOUND, "{case}: took {took:?}");
    assert_eq!(page.status, status, "{case}: {}", short(&page.body));
    assert!(
        page.body.contains(words),
        "{case}: {words:?} in {}",
        short(&page.body)
    );
    let expected_path = if endpoint == HttpEndpoint::Discovery {
        "/auth/login"
    } else {
        "/auth/callback"
    };
    assert_eq!(page.url.path(), expected_path, "{case}");
    assert!(browser.cookie(SESSION).is_none(), "{case}: no session");
    assert!(
        page.set_cookie(SESSION).is_none(),
        "{case}: no session cookie"
    );

    // The app still serves, and signs in once the provider behaves.
    assert_eq!(browser.get(&rig.url("/")).await.status, 200, "{case}");
    rig.emulator.clear_faults();
    let page = rig.sign_in(&Browser::new(), "/me").await;
    assert_eq!(
        page.status,
        200,
        "{case}: sign-in afterwards: {}",
        short(&page.body)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_endpoint_fails_cleanly_in_bounded_time() {
    let started = Instant::now();
    let mut cases = tokio::task::JoinSet::new();
    for endpoint in ENDPOINTS {
        for (failure, status, words) in FAILURES {
            cases.spawn(async move {
                run_case(endpoint, failure, status, words).await;
                format!("{endpoint:?} × {failure:?}")
            });
        }
    }
    let mut done = 0;
    let mut failed = Vec::new();
    while let Some(result) = cases.join_next().await {
        done += 1;
        if let Err(e) = result {
            let panic = e.into_panic();
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failed.push(message.chars().take(300).collect::<String>());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {done} cases failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert_eq!(done, ENDPOINTS.len() * FAILURES.len());
    let took = started.elapsed();
    assert!(took < Duration::from_secs(45), "the table took {took:?}");
}
