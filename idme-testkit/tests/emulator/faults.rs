//! Faults of the token endpoint, the ID token and userinfo, over loopback HTTP.

use super::common;

use common::*;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idme_testkit::{Fault, Persona};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn token_endpoint_faults() {
    let idme = start_auto(Persona::Veteran).await;
    idme.set_faults([Fault::SlowToken(Duration::from_millis(400))]);
    let params = code_authorization(&idme).await;
    let started = Instant::now();
    let (status, _) = exchange(&idme, &params["code"], VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(400));

    idme.set_faults([Fault::TokenError {
        status: 502,
        body: "<html>bad gateway</html>".into(),
    }]);
    let response = http()
        .post(format!("{}/oauth/token", idme.base_url()))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        response.text().await.expect("body"),
        "<html>bad gateway</html>"
    );

    idme.set_faults([Fault::BadSignature]);
    let params = code_authorization(&idme).await;
    let (_, body) = exchange(&idme, &params["code"], VERIFIER).await;
    let header =
        jsonwebtoken::decode_header(body["id_token"].as_str().expect("id_token")).expect("header");
    let keys = jwks(&idme).await;
    let jwk = &keys["keys"][0];
    assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[idme.client_id()]);
    let result = jsonwebtoken::decode::<Value>(
        body["id_token"].as_str().expect("id_token"),
        &key,
        &validation,
    );
    assert!(result.is_err(), "a corrupted signature must not verify");
}

/// The JOSE header and claims of a compact JWT, without verifying anything.
fn peek(jwt: &str) -> (Value, Value, String) {
    let mut parts = jwt.split('.');
    let mut part = || {
        let raw = URL_SAFE_NO_PAD
            .decode(parts.next().expect("part"))
            .expect("base64url");
        serde_json::from_slice::<Value>(&raw).expect("json part")
    };
    let (header, claims) = (part(), part());
    (
        header,
        claims,
        jwt.rsplit('.').next().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn id_token_and_userinfo_faults_and_drop() {
    let idme = start_auto(Persona::Veteran).await;
    let implicit = [
        ("response_type", "id_token token"),
        ("scope", "openid"),
        ("nonce", "n-f"),
    ];
    let front = |faults: Vec<Fault>| {
        idme.set_faults(faults);
        let idme = idme.clone();
        async move { redirect_params(&authorize(&idme, &implicit).await) }
    };

    let params = front(vec![Fault::AlgNone, Fault::OmitIssParameter]).await;
    let (header, _, signature) = peek(&params["id_token"]);
    assert_eq!(
        (header["alg"].as_str(), signature.as_str()),
        (Some("none"), "")
    );
    assert!(!params.contains_key("iss"));

    let params = front(vec![Fault::UnknownKid, Fault::WrongIssParameter]).await;
    let (header, _, _) = peek(&params["id_token"]);
    let keys = jwks(&idme).await;
    assert!(header["kid"].is_string());
    assert!(
        keys["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .all(|k| k["kid"] != header["kid"])
    );
    assert_ne!(params.get("iss"), Some(&idme.issuer()));

    let params = front(vec![
        Fault::NoKid,
        Fault::Expired,
        Fault::WrongNonce,
        Fault::WrongAtHash,
    ])
    .await;
    let (header, claims, _) = peek(&params["id_token"]);
    assert!(header.get("kid").is_none());
    assert!(claims["exp"].as_i64() < Some(claims["iat"].as_i64().unwrap_or(0) + 3600));
    assert_ne!(claims["nonce"], "n-f");
    assert_ne!(claims["at_hash"], half_hash(&params["access_token"]));

    let params = front(vec![Fault::DoubleQuotedUserinfo, Fault::UserinfoWrongSub]).await;
    let (status, text) = userinfo(&idme, &params["access_token"]).await;
    assert_eq!(status, StatusCode::OK);
    let inner: String = serde_json::from_str(&text).expect("outer string");
    let jwt: String = serde_json::from_str(&inner).expect("inner string");
    assert_ne!(verify(&idme, &jwt).await["sub"], Persona::Veteran.sub());

    let params = front(vec![
        Fault::UserinfoWrongIssuer,
        Fault::UserinfoWrongAudience,
    ])
    .await;
    let (_, text) = userinfo(&idme, &params["access_token"]).await;
    let info = peek(&serde_json::from_str::<String>(&text).expect("string")).1;
    assert_ne!(info["iss"], idme.issuer());
    assert_ne!(info["aud"], idme.client_id());
    let params = front(vec![Fault::UserinfoOmitIssAud]).await;
    let (_, text) = userinfo(&idme, &params["access_token"]).await;
    let info = peek(&serde_json::from_str::<String>(&text).expect("string")).1;
    assert!(
        info.get("iss").is_none() && info.get("aud").is_none(),
        "{info}"
    );

    let params = front(vec![Fault::PlainJsonUserinfo, Fault::TokenSubMismatch]).await;
    let (_, text) = userinfo(&idme, &params["access_token"]).await;
    let plain: Value = serde_json::from_str(&text).expect("plain json");
    assert_eq!(plain["uuid"], Persona::Veteran.sub());
    assert_eq!(
        peek(&params["id_token"]).1["sub"],
        Persona::Veteran.sub(),
        "front channel keeps the real sub"
    );
    let params = code_authorization(&idme).await;
    let (_, body) = exchange(&idme, &params["code"], VERIFIER).await;
    assert_ne!(
        peek(body["id_token"].as_str().expect("id_token")).1["sub"],
        Persona::Veteran.sub()
    );

    // The server stops once the last handle is gone.
    let addr = idme.local_addr();
    drop(idme);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
