//! The builder, the environment reader and validation, through `from_lookup` and `build`.

use super::*;
use crate::config_error::{ConfigError, ConflictRule, Rule, UrlRule};
use std::collections::HashMap;

fn env(vars: &[(&str, &str)]) -> Result<IdmeConfig, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    IdmeBuilder::from_lookup(|k| map.get(k).cloned())?
        .cookie_keys(CookieKeys::random())
        .build()
}

const BASE: &[(&str, &str)] = &[
    ("IDME_CLIENT_ID", "cid"),
    ("IDME_CLIENT_SECRET", "secret"),
    ("IDME_REDIRECT_URI", "https://app.example/auth/callback"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut v = BASE.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn defaults_from_env() {
    let c = env(BASE).unwrap();
    assert_eq!(c.environment, Environment::Production);
    assert_eq!(c.response_type, ResponseType::Code);
    assert_eq!(c.response_mode, ResponseMode::Query);
    assert!(c.pkce);
    assert!(c.secure_cookies);
    assert_eq!(c.paths.callback, "/auth/callback");
    assert_eq!(c.post_logout_redirect_uri.as_str(), "https://app.example/");
}

#[test]
fn sandbox_issuer_is_recognised() {
    let c = env(&with(&[("IDME_ISSUER", "https://api.idmelabs.com/oidc")])).unwrap();
    assert_eq!(c.environment, Environment::Sandbox);
}

#[test]
fn query_mode_with_front_channel_tokens_fails() {
    let e = env(&with(&[
        ("IDME_RESPONSE_TYPE", "id_token token"),
        ("IDME_RESPONSE_MODE", "query"),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("fragment or form_post"), "{e}");
}

#[test]
fn implicit_defaults_to_fragment_and_no_pkce() {
    let c = env(&with(&[("IDME_RESPONSE_TYPE", "token id_token")])).unwrap();
    assert_eq!(c.response_type, ResponseType::IdTokenToken);
    assert_eq!(c.response_mode, ResponseMode::Fragment);
    assert!(!c.pkce);
}

#[test]
fn pkce_with_implicit_fails() {
    let e = env(&with(&[
        ("IDME_RESPONSE_TYPE", "id_token"),
        ("IDME_PKCE", "true"),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("IDME_PKCE"), "{e}");
}

#[test]
fn http_off_loopback_fails() {
    let e = env(&with(&[("IDME_ISSUER", "http://idp.example/oidc")])).unwrap_err();
    assert!(e.to_string().contains("plain http"), "{e}");
    let e = env(&[
        ("IDME_CLIENT_ID", "cid"),
        ("IDME_CLIENT_SECRET", "s"),
        ("IDME_REDIRECT_URI", "http://app.example/cb"),
    ])
    .unwrap_err();
    assert!(e.to_string().contains("IDME_REDIRECT_URI"), "{e}");
}

#[test]
fn loopback_http_drops_secure() {
    let c = env(&[
        ("IDME_ISSUER", "http://127.0.0.1:9000/oidc"),
        ("IDME_CLIENT_ID", "cid"),
        ("IDME_CLIENT_SECRET", "s"),
        ("IDME_REDIRECT_URI", "http://127.0.0.1:3000/auth/callback"),
    ])
    .unwrap();
    assert!(!c.secure_cookies);
    assert!(matches!(c.environment, Environment::Custom(_)));
}

#[test]
fn redirect_uri_with_query_fails() {
    let e = env(&[
        ("IDME_CLIENT_ID", "cid"),
        ("IDME_CLIENT_SECRET", "s"),
        ("IDME_REDIRECT_URI", "https://app.example/cb?x=1"),
    ])
    .unwrap_err();
    assert!(e.to_string().contains("exactly"), "{e}");
}

#[test]
fn missing_pieces_are_named() {
    assert!(env(&[]).unwrap_err().to_string().contains("IDME_CLIENT_ID"));
    let e = env(&[
        ("IDME_CLIENT_ID", "c"),
        ("IDME_REDIRECT_URI", "https://a.example/cb"),
    ])
    .unwrap_err();
    assert!(e.to_string().contains("IDME_CLIENT_SECRET"), "{e}");
    let e = env(&with(&[
        ("IDME_SCOPES", "military"),
        ("IDME_RESPONSE_TYPE", "id_token"),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("openid"), "{e}");
    let e = env(&with(&[("IDME_TOKEN_AUTH", "private_key_jwt")])).unwrap_err();
    assert!(e.to_string().contains("IDME_TOKEN_AUTH"), "{e}");
}

#[test]
fn durations_from_env() {
    let c = env(&with(&[
        ("IDME_HTTP_TIMEOUT", "1.5"),
        ("IDME_LOGIN_TIMEOUT", "30"),
    ]))
    .unwrap();
    assert_eq!(c.http_timeout, Duration::from_millis(1500));
    assert_eq!(c.login_timeout, Duration::from_secs(30));
    let e = env(&with(&[("IDME_HTTP_TIMEOUT", "soon")])).unwrap_err();
    assert!(e.to_string().contains("IDME_HTTP_TIMEOUT"), "{e}");
    assert!(env(&with(&[("IDME_LOGIN_TIMEOUT", "-1")])).is_err());
}

#[test]
fn session_settings_from_env() {
    let c = env(&with(&[
        ("IDME_SESSION_IDLE_TIMEOUT", "900"),
        ("IDME_REFRESH_MARGIN", "30"),
        ("IDME_SESSION_LIFETIME", "3600"),
    ]))
    .unwrap();
    assert_eq!(c.session_idle_timeout(), Some(Duration::from_secs(900)));
    assert_eq!(c.refresh_margin(), Duration::from_secs(30));
    assert_eq!(c.session_lifetime(), Duration::from_secs(3600));
    let defaults = env(&with(&[])).unwrap();
    assert_eq!(defaults.session_idle_timeout(), None);
    assert_eq!(defaults.refresh_margin(), Duration::from_secs(60));
    assert!(!defaults.has_session_store());
    let e = env(&with(&[("IDME_SESSION_IDLE_TIMEOUT", "10")])).unwrap_err();
    assert!(e.to_string().contains("at least 60"), "{e}");
}

#[test]
fn oauth_mode_reads_attributes() {
    let c = env(&with(&[("IDME_SCOPES", "military")])).unwrap();
    assert!(!c.openid);
    assert_eq!(c.user_data, UserDataSource::Attributes);
    assert!(
        env(&with(&[
            ("IDME_SCOPES", "military"),
            ("IDME_USER_DATA", "userinfo")
        ]))
        .is_err()
    );
}

#[test]
fn policy_names_become_handles() {
    let c = env(&with(&[("IDME_SCOPES", "openid ial2 military")])).unwrap();
    assert_eq!(
        c.scopes,
        [
            "openid",
            "http://idmanagement.gov/ns/assurance/ial/2/aal/2",
            "military"
        ]
    );
}

#[test]
fn prompt_and_max_age_from_env() {
    let c = env(&with(&[("IDME_PROMPT", "login"), ("IDME_MAX_AGE", "300")])).unwrap();
    assert_eq!(c.prompt, Some(crate::config::Prompt::login()));
    assert_eq!(c.max_age, Some(300));
    let e = env(&with(&[("IDME_PROMPT", "none consent")])).unwrap_err();
    assert!(e.to_string().contains("IDME_PROMPT"), "{e}");
    let e = env(&with(&[("IDME_MAX_AGE", "-1")])).unwrap_err();
    assert!(e.to_string().contains("IDME_MAX_AGE"), "{e}");
}

#[test]
fn implicit_needs_no_secret() {
    let c = env(&[
        ("IDME_CLIENT_ID", "cid"),
        ("IDME_REDIRECT_URI", "https://app.example/cb"),
        ("IDME_RESPONSE_TYPE", "id_token"),
    ])
    .unwrap();
    assert!(c.client_secret.is_none());
}

#[test]
fn large_clock_skew_needs_dangerous() {
    let b = IdmeBuilder::from_lookup(|k| {
        BASE.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    assert!(
        b.clone()
            .clock_skew(Duration::from_secs(3600))
            .build()
            .is_err()
    );
    assert!(
        b.dangerous()
            .insecure_clock_skew(Duration::from_secs(3600))
            .build()
            .is_ok()
    );
}

#[test]
fn only_the_dangerous_opt_in_relaxes_the_clock_skew_bound() {
    let b = IdmeBuilder::from_lookup(|k| {
        BASE.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let hour = Duration::from_secs(3600);
    // Passing through `dangerous()` without asking for the relaxation relaxes nothing.
    assert!(b.clone().clock_skew(hour).dangerous().build().is_err());
    // The relaxation is a flag on the builder that `build` reads, wherever it is called.
    let c = b
        .dangerous()
        .insecure_clock_skew(hour)
        .safe()
        .http_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(c.clock_skew(), hour);
    assert_eq!(c.http_timeout(), Duration::from_secs(5));
}

#[test]
fn a_session_store_cache_longer_than_a_second_is_refused() {
    let base = || {
        IdmeBuilder::new()
            .client_id("c")
            .client_secret("s")
            .redirect_uri("https://app.example/auth/callback")
            .cookie_keys(crate::CookieKeys::random())
    };
    let err = base()
        .session_store_cache(Duration::from_millis(1001))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("at most 1 s"), "{err}");
    let ok = base()
        .session_store_cache(Duration::from_secs(1))
        .build()
        .unwrap();
    assert_eq!(ok.session_store_cache(), Duration::from_secs(1));
    assert_eq!(
        base().build().unwrap().session_store_cache(),
        Duration::from_millis(500)
    );
}

/// `build` and the environment reader name the setting and the rule in the variant.
#[test]
fn errors_name_the_setting_and_the_rule() {
    let e = env(&[]).unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Missing {
                setting: "IDME_CLIENT_ID",
                ..
            }
        ),
        "{e:?}"
    );
    let e = env(&[
        ("IDME_CLIENT_ID", "c"),
        ("IDME_REDIRECT_URI", "https://a.example/cb"),
    ])
    .unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Missing {
                setting: "IDME_CLIENT_SECRET",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.setting(), Some("IDME_CLIENT_SECRET"));

    let e = env(&with(&[("IDME_ISSUER", "http://idp.example/oidc")])).unwrap_err();
    assert!(
        matches!(&e, ConfigError::Url { setting: "IDME_ISSUER", rule: UrlRule::PlainHttp, url }
            if url == "http://idp.example/oidc"),
        "{e:?}"
    );
    let e = env(&with(&[("IDME_ISSUER", "ftp://idp.example/oidc")])).unwrap_err();
    assert!(
        matches!(&e, ConfigError::Url { rule: UrlRule::Scheme { scheme }, .. } if scheme == "ftp"),
        "{e:?}"
    );
    let e = env(&with(&[(
        "IDME_REDIRECT_URI",
        "https://app.example/cb?x=1",
    )]))
    .unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Invalid {
                setting: "IDME_REDIRECT_URI",
                rule: Rule::ExactRedirectUri,
                ..
            }
        ),
        "{e:?}"
    );
    let e = env(&with(&[("IDME_REDIRECT_URI", "/auth/callback")])).unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::NotAUrl {
                setting: "IDME_REDIRECT_URI",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(std::error::Error::source(&e).is_some());

    let e = env(&with(&[
        ("IDME_RESPONSE_TYPE", "id_token token"),
        ("IDME_RESPONSE_MODE", "query"),
    ]))
    .unwrap_err();
    assert_eq!(
        e,
        ConfigError::Conflict {
            settings: ["IDME_RESPONSE_MODE", "IDME_RESPONSE_TYPE"],
            rule: ConflictRule::QueryModeCarriesNoTokens {
                response_type: "id_token token"
            },
        }
    );
    let e = env(&with(&[
        ("IDME_SCOPES", "openid ial2"),
        ("IDME_RESPONSE_TYPE", "id_token"),
    ]))
    .unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Conflict {
                rule: ConflictRule::AssuranceWithoutAccessToken { .. },
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn environment_errors_keep_the_parse_error() {
    let e = env(&with(&[("IDME_TOKEN_AUTH", "private_key_jwt")])).unwrap_err();
    let ConfigError::Env { var, source } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (*var, source.value()),
        ("IDME_TOKEN_AUTH", "private_key_jwt")
    );
    assert!(std::error::Error::source(&e).is_some());
    let e = env(&with(&[("IDME_PKCE", "maybe")])).unwrap_err();
    assert_eq!(e, ConfigError::invalid("IDME_PKCE", "maybe", Rule::Boolean));
    assert_eq!(e.to_string(), "IDME_PKCE=\"maybe\" must be true or false");
    let e = env(&with(&[("IDME_HTTP_TIMEOUT", "soon")])).unwrap_err();
    assert_eq!(
        e,
        ConfigError::invalid("IDME_HTTP_TIMEOUT", "soon", Rule::Seconds)
    );
    let e = env(&with(&[("IDME_COOKIE_KEYS", "!!!")])).unwrap_err();
    assert!(matches!(e, ConfigError::CookieKeys { .. }), "{e:?}");
    assert!(
        !e.to_string().contains("!!!"),
        "the key is not repeated: {e}"
    );
}

#[test]
fn builder_rules_are_variants() {
    let base = || {
        IdmeBuilder::new()
            .client_id("c")
            .client_secret("s")
            .redirect_uri("https://app.example/auth/callback")
    };
    let rule = |b: IdmeBuilder| match b.build().unwrap_err() {
        ConfigError::Invalid { setting, rule, .. } => (setting, rule),
        other => panic!("{other:?}"),
    };
    let skew = base().clock_skew(Duration::from_secs(3600));
    assert_eq!(rule(skew), ("clock_skew", Rule::AtMostFiveMinutes));
    let idle = base().session_idle_timeout(Duration::from_secs(10));
    assert_eq!(
        rule(idle),
        ("IDME_SESSION_IDLE_TIMEOUT", Rule::AtLeastAMinute)
    );
    let cache = base().session_store_cache(Duration::from_secs(2));
    assert_eq!(rule(cache), ("session_store_cache", Rule::AtMostASecond));
    let login = base().login_timeout(Duration::from_secs(3600));
    assert_eq!(
        rule(login),
        ("IDME_LOGIN_TIMEOUT", Rule::OneSecondToHalfAnHour)
    );
    let path = base().route_paths("auth/login", "/auth/logout");
    assert_eq!(rule(path), ("route_paths", Rule::LeadingSlash));
    let e = base()
        .token_auth(TokenAuthMethod::None)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Conflict {
                rule: ConflictRule::PublicWebClient,
                ..
            }
        ),
        "{e:?}"
    );
}
