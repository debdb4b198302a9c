//! Discovery, the JWKS and key rotation, over loopback HTTP.

use super::common;

use common::*;

use idme_testkit::{EmulatorConfig, Fault, Persona};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn discovery_names_the_end_session_endpoint_only_when_asked() {
    let idme = start(EmulatorConfig {
        end_session_endpoint: true,
        ..EmulatorConfig::default()
    })
    .await;
    let url = format!("{}/.well-known/openid-configuration", idme.issuer());
    let doc: Value = http().get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        doc["end_session_endpoint"],
        format!("{}/oauth/logout", idme.base_url())
    );
}

#[tokio::test]
async fn discovery_and_jwks_shapes() {
    let idme = start(EmulatorConfig::default()).await;
    let url = format!("{}/.well-known/openid-configuration", idme.issuer());
    let doc: Value = http()
        .get(url)
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let base = idme.base_url();
    assert_eq!(doc["issuer"], idme.issuer());
    assert_eq!(idme.issuer(), format!("{base}/oidc"));
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/oauth/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{base}/oauth/token"));
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{base}/api/public/v3/userinfo")
    );
    assert_eq!(doc["jwks_uri"], format!("{base}/oidc/.well-known/jwks"));
    assert!(
        doc.get("end_session_endpoint").is_none(),
        "ID.me's discovery names no end_session_endpoint, nor by default the emulator's"
    );
    assert_eq!(
        doc["response_types_supported"].as_array().map(Vec::len),
        Some(7)
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);

    let keys = jwks(&idme).await;
    let key = &keys["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["use"].as_str(),
            key["alg"].as_str()
        ),
        (Some("RSA"), Some("sig"), Some("RS256"))
    );

    idme.set_faults([Fault::DiscoveryDown, Fault::JwksDown]);
    let down = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            idme.issuer()
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let down = http()
        .get(format!("{base}/oidc/.well-known/jwks"))
        .send()
        .await
        .expect("get");
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let stats = idme.stats();
    assert_eq!((stats.discovery, stats.jwks), (2, 2));

    let quirky = start(EmulatorConfig {
        jwks_quirks: true,
        advertise_iss_parameter: false,
        ..Default::default()
    })
    .await;
    let keys = jwks(&quirky).await;
    let key = &keys["keys"][0];
    assert!(key.get("alg").is_none());
    assert_eq!(key["algorithm"], "RS256");
    assert!(key["x5t"].as_str().is_some_and(|t| t.ends_with('=')));
    assert!(key["x5c"][0].as_str().is_some_and(|c| c.contains('\n')));
}

#[tokio::test]
async fn rotate_keys_publishes_new_and_old() {
    let idme = start_auto(Persona::Veteran).await;
    let before = jwks(&idme).await;
    let old_kid = before["keys"][0]["kid"].as_str().expect("kid").to_owned();
    assert_eq!(before["keys"].as_array().map(Vec::len), Some(1));

    idme.rotate_keys();
    let after = jwks(&idme).await;
    let kids: Vec<&str> = after["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids.len(), 2);
    assert_ne!(kids[0], old_kid);
    assert_eq!(kids[1], old_kid);

    let params = code_authorization(&idme).await;
    let (_, body) = exchange(&idme, &params["code"], VERIFIER).await;
    let id_token = body["id_token"].as_str().expect("id_token");
    assert_eq!(
        jsonwebtoken::decode_header(id_token)
            .expect("header")
            .kid
            .as_deref(),
        Some(kids[0])
    );
    verify(&idme, id_token).await;
}
