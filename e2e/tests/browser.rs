//! The browser suite against each example app: real headless Chromium, real process.

mod axum {
    idme_e2e::browser_tests!("idme-example-axum");

    /// The harness itself: a CSP violation does reach the console log the suite inspects, so
    /// "no violations" means something.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn console_log_reports_csp_violations() {
        let browser =
            idme_e2e::webdriver::ChromeSession::start("console_log_reports_csp_violations").await;
        browser
            .goto(
                "data:text/html,<meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\">\
                 <script>document.title='ran'</script><p id=x>x</p>",
            )
            .await;
        browser
            .wait_for_id("x", idme_e2e::webdriver::DEFAULT_TIMEOUT)
            .await;
        let mut violations = Vec::new();
        for _ in 0..40 {
            violations = browser.csp_violations().await;
            if !violations.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        browser
            .ensure(
                !violations.is_empty(),
                format!(
                    "a blocked inline script shows in the console: {:?}",
                    browser.console().await
                ),
            )
            .await;
        browser
            .ensure(
                browser.title().await != "ran",
                "the inline script was blocked",
            )
            .await;
        browser.close().await;
    }
}

mod actix {
    idme_e2e::browser_tests!("idme-example-actix");
}

mod rocket {
    idme_e2e::browser_tests!("idme-example-rocket");
}
