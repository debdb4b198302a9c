//! Every provider endpoint × every way an HTTP answer can go wrong, as a table, in
//! memory: each case ends in bounded time with a clear page and the right status, no
//! session, no panic, and the engine signing in again once the provider behaves.
//!
//! | endpoint | when it is called | expected outcome of a fault |
//! |---|---|---|
//! | discovery | login (first login) | error page at the login route, no login started |
//! | JWKS | callback, verifying the ID token | error page at the callback, no session |
//! | token | callback, redeeming the code | error page at the callback, no session |
//! | refresh | a signed-in request whose access token is due | the signed-in user, session kept (provider down) |
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
//! | body broken off (reset) | 502 | cannot be reached |
//! | wrong content type (`text/html`) | 502 | could not read |

use std::time::{Duration, Instant};

use idme_core::LoginOptions;
use idme_testkit::pair::{Pair, assert_refused, sets_session, signed_in};
use idme_testkit::{Fault, HttpEndpoint, HttpFailure, Persona};

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
    let pair = Pair::new(|b| {
        b.http_timeout(HTTP_TIMEOUT)
            .refresh_margin(Duration::from_secs(3600))
    })
    .await;
    let fault = Fault::Http { endpoint, failure };

    if endpoint == HttpEndpoint::Refresh {
        // Signed in: the next request is the first to refresh.
        let mut browser = pair.sign_in().await;
        pair.emulator.set_faults([fault]);
        let started = Instant::now();
        let me = pair.authenticate(&mut browser).await;
        let took = started.elapsed();
        assert!(took < BOUND, "{case}: took {took:?}");
        if status == 504 {
            assert!(
                took >= HTTP_TIMEOUT,
                "{case}: the refresh was tried: {took:?}"
            );
        }
        let me = me.unwrap_or_else(|d| panic!("{case}: session kept: {:?}", d.error));
        assert_eq!(me.user.sub(), Persona::Veteran.sub(), "{case}");
        assert!(
            me.set_cookies.iter().all(|c| c.max_age > 0),
            "{case}: the session is not deleted"
        );
        pair.emulator.clear_faults();
        assert!(
            pair.authenticate(&mut browser).await.is_ok(),
            "{case}: next request"
        );
        return;
    }

    pair.emulator.set_faults([fault]);
    let started = Instant::now();
    let reply = if endpoint == HttpEndpoint::Discovery {
        pair.login().await
    } else {
        pair.attempt(&LoginOptions::new().return_to("/me"))
            .await
            .reply
    };
    let took = started.elapsed();
    assert!(took < BOUND, "{case}: took {took:?}");
    assert_eq!(reply.status, status, "{case}: {}", short(&reply.body));
    assert_refused(&reply, status, words);
    assert!(!sets_session(&reply), "{case}: no session cookie");

    // The engine signs in once the provider behaves.
    pair.emulator.clear_faults();
    let attempt = pair.attempt(&LoginOptions::new()).await;
    assert!(
        signed_in(&attempt.reply),
        "{case}: sign-in afterwards: {}",
        attempt.reply.body
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
    assert!(took < Duration::from_secs(30), "the table took {took:?}");
}
