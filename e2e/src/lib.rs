//! The black-box contract suite: each example app (axum, actix-web, Rocket) is started as a
//! real process with the environment contract of `examples/README.md` and driven over
//! loopback by a scripted browser, against an emulator the test controls. The same scenarios run against
//! every example ([`contract_tests!`]); a difference between frameworks is a bug.
#![forbid(unsafe_code)]

/// The workspace README's Rust blocks, compiled as doctests (the dev-dependencies bring every
/// crate they use); its framework programs are also the adapters' quickstart examples
/// (`idme-core/tests/readme.rs`).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;

pub mod app_token_scenarios;
pub mod apps;
pub mod browser_suite;
pub mod cli;
pub mod device_scenarios;
pub mod durable_stores;
pub mod events_scenarios;
pub mod interop;
pub mod loopback_app;
pub mod oidc_provider;
pub mod process;
pub mod scenarios;
pub mod sessions;
pub mod shared_app_tokens;
pub mod spa_scenarios;
pub mod step_up_scenarios;
pub mod webdriver;

pub use process::{ExampleApp, Target};

/// Generates the whole contract suite for one example package.
#[macro_export]
macro_rules! contract_tests {
    ($package:literal) => {
        $crate::__flow_tests!(scenarios, $package);
        $crate::__oauth_flow_tests!(scenarios, $package);
        $crate::__scenario_tests!(scenarios, $package;
            offline_mode_signs_in_with_nothing_configured,
            home_page_is_public,
            me_requires_a_session,
            logout_ends_the_session,
            return_to_is_kept_when_local_and_dropped_otherwise,
            access_denied_is_a_friendly_page,
            missing_pending_cookie_asks_to_start_again,
            state_missing_or_altered_is_refused,
            replayed_callback_is_refused,
            injected_code_fails_pkce,
            provider_misbehaviour_is_refused,
            token_endpoint_errors_and_timeouts,
            key_rotation_costs_one_jwks_fetch,
            client_secret_post_works,
            verification_guards,
            offline_veteran_passes_both_guards,
        );
        $crate::__scenario_tests!(spa_scenarios, $package;
            spa_backend_routes,
        );
        $crate::__scenario_tests!(step_up_scenarios, $package;
            recent_sign_in_guard,
        );
        $crate::__scenario_tests!(sessions, $package;
            refresh_renews_the_session_cookie,
            backchannel_logout_ends_the_session,
            sessions_shared_through_redis,
        );
    };
}

/// Generates the app-client suite (devices, native apps, bearer tokens) for one example
/// package.
#[macro_export]
macro_rules! device_tests {
    ($package:literal) => {
        $crate::__scenario_tests!(device_scenarios, $package;
            standard_client_completes_the_device_flow,
            device_endpoint_errors,
            the_persons_page,
            only_the_configured_clients,
        );
        $crate::__scenario_tests!(app_token_scenarios, $package;
            bearer_requests,
            optional_user_refuses_a_bad_bearer,
            refresh_rotation_and_reuse,
            revocation_and_logout,
            backchannel_logout_revokes_device_tokens,
            authorize_relay_with_pkce,
        );
        $crate::__scenario_tests!(shared_app_tokens, $package;
            app_tokens_shared_through_redis,
        );
        $crate::__scenario_tests!(events_scenarios, $package;
            security_events_received,
        );
        $crate::__scenario_tests!(durable_stores, $package;
            app_grants_survive_a_restart,
            sessions_shared_through_sqlite,
            sessions_shared_through_postgres,
            sessions_shared_through_redis_cluster,
            sessions_shared_through_redis_sentinel,
            sessions_survive_a_sentinel_failover_under_load,
            offline_mode_survives_a_restart,
        );
    };
}

/// One test per response type × allowed mode, each calling `$module::signs_in`. The one
/// list of flows every suite runs.
#[doc(hidden)]
#[macro_export]
macro_rules! __flow_tests {
    ($module:ident, $package:literal) => {
        $crate::__flow_tests!(@each $module, $package;
            code_query: "code", "query";
            code_fragment: "code", "fragment";
            code_form_post: "code", "form_post";
            id_token_fragment: "id_token", "fragment";
            id_token_form_post: "id_token", "form_post";
            id_token_token_fragment: "id_token token", "fragment";
            id_token_token_form_post: "id_token token", "form_post";
            code_id_token_fragment: "code id_token", "fragment";
            code_id_token_form_post: "code id_token", "form_post";
            code_token_fragment: "code token", "fragment";
            code_token_form_post: "code token", "form_post";
            code_id_token_token_fragment: "code id_token token", "fragment";
            code_id_token_token_form_post: "code id_token token", "form_post";
        );
    };
    (@each $module:ident, $package:literal; $($name:ident: $rt:literal, $mode:literal;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $crate::$module::signs_in($package, $rt, $mode).await;
        }
    )*};
}

/// The bare OAuth `token` response type (no `openid`, the user from `attributes.json`): an
/// ID.me flow that OpenID-only providers (such as oidc-provider) do not offer, so it is
/// kept out of [`__flow_tests!`] and the interop suite.
#[doc(hidden)]
#[macro_export]
macro_rules! __oauth_flow_tests {
    ($module:ident, $package:literal) => {
        $crate::__flow_tests!(@each $module, $package;
            token_fragment: "token", "fragment";
            token_form_post: "token", "form_post";
        );
    };
}

/// One test per scenario function `$module::$name(package)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __scenario_tests {
    ($module:ident, $package:literal; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $crate::$module::$name($package).await;
        }
    )*};
}
