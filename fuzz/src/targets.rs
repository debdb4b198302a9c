//! The fuzz targets and their seed corpora, made at runtime from real artefacts: the
//! in-process emulator signs a user in once (a real sealed session cookie, chunked and
//! whole, and a real pending-login cookie), signs a real logout token, serves its real
//! discovery document and JWKS; a fresh RSA key encrypts a real JWE.

use std::rc::Rc;
use std::sync::OnceLock;

use idme_core::{CallbackInput, DecryptionKeys, Environment, Idme, IdmeBuilder, RequestCookies};
use idme_testkit::browser::Browser;
use idme_testkit::{Emulator, EmulatorConfig, Persona};

use crate::Target;

/// Where the engine under test says it lives (never served: the harness calls the
/// engine directly).
const REDIRECT_URI: &str = "http://127.0.0.1:9/auth/callback";
const SESSION_COOKIE: &str = "idme_session";
const FORM: &str = "application/x-www-form-urlencoded";

/// The names of every target, in the order they run.
pub const NAMES: &[&str] = &[
    "callback_params",
    "callback_engine",
    "jws_header",
    "jws_verify",
    "jwe",
    "jwks",
    "cookie_header",
    "session_cookie",
    "userinfo",
    "attributes",
    "logout_token",
];

/// Everything the targets share: a runtime, the emulator, an engine pointed at it, and
/// the real artefacts of one sign-in.
struct World {
    rt: tokio::runtime::Runtime,
    s: Seeds,
}

/// The engine and the artefacts of one real sign-in.
struct Seeds {
    idme: Idme,
    // Kept alive for the engine's discovery, JWKS and token calls.
    _emulator: Emulator,
    session_header: String,
    chunked_session_header: String,
    pending_header: String,
    callback_query: String,
    jwks: Vec<u8>,
    discovery: Vec<u8>,
    logout_token: String,
    sid_logout_token: String,
}

fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn cookie_header(reply: &idme_core::Reply) -> String {
    reply
        .set_cookies
        .iter()
        .filter(|c| c.max_age != 0)
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ")
}

impl World {
    fn new() -> World {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let s = rt.block_on(async {
            let emulator = Emulator::start(EmulatorConfig {
                redirect_uris: vec![REDIRECT_URI.into()],
                auto_user: Some(Persona::Veteran),
                ..EmulatorConfig::default()
            })
            .await
            .expect("the emulator starts");
            let config = IdmeBuilder::new()
                .environment(Environment::Custom(emulator.issuer()))
                .client_id(emulator.client_id())
                .client_secret(emulator.client_secret())
                .redirect_uri(REDIRECT_URI)
                .build()
                .expect("a valid config");
            let idme = Idme::new(config);
            let browser = Browser::api_client();

            // One real sign-in: login, the emulator's redirect, the callback.
            let login = idme.login(Some("return_to=/me")).await;
            let authorize = login.header("location").expect("login redirects").to_owned();
            let pending_header = cookie_header(&login);
            let back = browser.get(&authorize).await;
            let callback = back.location().expect("the emulator redirects back");
            let query = callback.query().unwrap_or_default().to_owned();
            let done = idme
                .callback(
                    CallbackInput::get(Some(&query)),
                    &RequestCookies::from_header_values([pending_header.as_str()]),
                )
                .await;
            assert_eq!(done.status, 303, "the seed sign-in succeeds: {}", done.body);
            let session_header = cookie_header(&done);
            let session = RequestCookies::from_header_values([session_header.as_str()]);
            // Text that does not compress (sessions are deflated before sealing), so the
            // re-sealed session needs several cookies.
            let hasher = std::collections::hash_map::RandomState::new();
            let big: String = (0u64..1200)
                .map(|i| format!("{:016x}", std::hash::BuildHasher::hash_one(&hasher, i)))
                .collect();
            let chunked = idme
                .__reseal_with_claim(&session, "fuzz_padding", &big)
                .expect("the session reseals");
            let chunked_session_header = chunked
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect::<Vec<_>>()
                .join("; ");
            assert!(chunked_session_header.contains("idme_session.1="), "chunked");

            // A second login left pending: its state matches the pending cookie.
            let pending = idme.login(None).await;
            let pending_header = cookie_header(&pending);
            let state = url_param(pending.header("location").unwrap_or_default(), "state");
            let callback_query = format!("code=fuzz-code&state={state}&iss={}", emulator.issuer());

            let discovery_url = format!("{}/.well-known/openid-configuration", emulator.issuer());
            let discovery = browser.get(&discovery_url).await.body;
            let meta: serde_json::Value = serde_json::from_str(&discovery).expect("discovery");
            let jwks_uri = meta["jwks_uri"].as_str().expect("jwks_uri").to_owned();
            let jwks = browser.get(&jwks_uri).await.body.into_bytes();
            let logout_token = emulator.logout_token(Persona::Veteran, serde_json::Value::Null);
            let sid_logout_token = emulator.logout_token(
                Persona::Veteran,
                serde_json::json!({ "sub": null, "sid": emulator.provider_session_id(Persona::Veteran) }),
            );
            Seeds {
                idme,
                _emulator: emulator,
                session_header,
                chunked_session_header,
                pending_header,
                callback_query,
                jwks,
                discovery: discovery.into_bytes(),
                logout_token,
                sid_logout_token,
            }
        });
        World { rt, s }
    }
}

fn url_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

/// A JWE (`RSA-OAEP` + `A256CBC-HS512`) around `jwt`, and the keys that open it.
fn jwe_and_keys(jwt: &str) -> (String, DecryptionKeys) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    static KEY: OnceLock<(String, String)> = OnceLock::new();
    let (private, public) = KEY.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let private = key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string();
        let public = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("PEM");
        (private, public)
    });
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption("A256CBC-HS512");
    header.set_content_type("JWT");
    header.set_key_id("rp-1");
    let encrypter = josekit::jwe::RSA_OAEP
        .encrypter_from_pem(public.as_bytes())
        .expect("encrypter");
    let jwe = josekit::jwe::serialize_compact(jwt.as_bytes(), &header, &encrypter).expect("JWE");
    let keys = DecryptionKeys::none()
        .add_pem(Some("rp-1".into()), private.as_bytes())
        .expect("the key loads");
    (jwe, keys)
}

/// ID.me-shaped `attributes.json` and policies bodies.
const ATTRIBUTES: &str = r#"{"attributes":[{"handle":"fname","name":"First Name","value":"Vera"},
{"handle":"lname","name":"Last Name","value":"Veteran"},{"handle":"age","name":"Age","value":51},
{"handle":"email","name":"Email","value":"vera@example.com"}],
"status":[{"group":"military","subgroups":["Veteran"],"verified":true},
{"group":"student","subgroups":[],"verified":false}]}"#;
const POLICIES: &str = r#"[{"handle":"military","name":"Military","active":true},
{"handle":"http://idmanagement.gov/ns/assurance/ial/2/aal/2","name":"IAL2","active":true}]"#;

/// Every target, built around one emulator sign-in.
pub fn all() -> Vec<Target> {
    let world = Rc::new(World::new());
    let w = &world.s;
    let jwt = w.logout_token.clone();
    let signed_seeds = [jwt.clone(), w.sid_logout_token.clone()];
    let (jwe, jwe_keys) = jwe_and_keys(&jwt);
    let no_keys = DecryptionKeys::none();
    let b = |s: &str| s.as_bytes().to_vec();

    let callback_seeds = vec![
        b(&w.callback_query),
        b("error=access_denied&state=abc&error_description=x"),
        b(&format!(
            "id_token={jwt}&access_token=at&state=s&token_type=bearer&expires_in=300"
        )),
        b(&format!("code=c&id_token={jwt}&state=s&session_state=x")),
    ];
    let session_seeds = vec![
        b(&w.session_header),
        b(&w.chunked_session_header),
        b(&format!("{}; {}", w.pending_header, w.session_header)),
    ];
    check_seeds(&world, &jwe, &jwe_keys, &signed_seeds);
    let mut targets = Vec::new();

    targets.push(Target {
        name: "callback_params",
        corpus: callback_seeds.clone(),
        run: Box::new(|input| {
            // First byte picks the channel: query, form_post, or a relayed fragment.
            let (sel, rest) = input.split_first().unwrap_or((&0, &[]));
            let _ = match sel % 3 {
                0 => idme_core::__fuzzing::callback_params(false, None, input),
                1 => idme_core::__fuzzing::callback_params(true, Some(FORM), input),
                _ => idme_core::__fuzzing::callback_params(true, Some(&text(rest)), input),
            };
        }),
    });
    {
        let w = Rc::clone(&world);
        targets.push(Target {
            name: "callback_engine",
            corpus: callback_seeds,
            run: Box::new(move |input| {
                let cookies = RequestCookies::from_header_values([w.s.pending_header.as_str()]);
                let post = input.first().is_some_and(|b| b % 2 == 1);
                let query = text(input);
                let callback = CallbackInput::get((!post).then_some(query.as_ref()));
                let reply = w.rt.block_on(w.s.idme.callback(callback, &cookies));
                assert!(
                    reply.status != 303
                        || reply
                            .set_cookies
                            .iter()
                            .all(|c| c.name != SESSION_COOKIE || c.max_age == 0),
                    "a mutated callback made a session"
                );
            }),
        });
    }
    targets.push(Target {
        name: "jws_header",
        corpus: vec![b(&jwt), b(&w.sid_logout_token)],
        run: Box::new(|input| {
            let _ = idme_core::__fuzzing::jws_header(&text(input));
        }),
    });
    {
        let jwks = w.jwks.clone();
        targets.push(Target {
            name: "jws_verify",
            corpus: vec![b(&jwt), b(&w.sid_logout_token)],
            run: Box::new(move |input| {
                let token = text(input);
                let ok = idme_core::__fuzzing::jws_verify(&jwks, &token);
                assert!(
                    !ok || signed_seeds.iter().any(|t| *t == token),
                    "a mutated token verified"
                );
            }),
        });
    }
    targets.push(Target {
        name: "jwe",
        corpus: vec![b(&jwe)],
        run: Box::new(move |input| {
            let token = text(input);
            // Header decode and algorithm checks for every input; the RSA unwrap and
            // content decryption (about a millisecond each) for one input in 16.
            let keys = if input.len() % 16 == 0 {
                &jwe_keys
            } else {
                &no_keys
            };
            let _ = idme_core::__fuzzing::jwe_decrypt(keys, &token);
        }),
    });
    targets.push(Target {
        name: "jwks",
        corpus: vec![w.jwks.clone(), w.discovery.clone()],
        run: Box::new(|input| {
            let _ = idme_core::__fuzzing::jwks(input);
        }),
    });
    targets.push(Target {
        name: "cookie_header",
        corpus: session_seeds.clone(),
        run: Box::new(|input| {
            let header = text(input);
            let _ = idme_core::__fuzzing::cookie_reassemble(&[&header], SESSION_COOKIE);
        }),
    });
    {
        let w = Rc::clone(&world);
        targets.push(Target {
            name: "session_cookie",
            corpus: session_seeds,
            run: Box::new(move |input| {
                let header = text(input);
                let cookies = RequestCookies::from_header_values([header.as_ref()]);
                let _ = w.rt.block_on(w.s.idme.authenticate(&cookies));
            }),
        });
    }
    targets.push(Target {
        name: "userinfo",
        corpus: vec![
            b(&format!("\"{jwt}\"\n")),
            b(&serde_json::to_string(&format!("\"{jwt}\"")).unwrap_or_default()),
            b(&format!("\"{jwe}\"")),
            b(r#"{"sub":"abc","fname":"Vera","email":"vera@example.com"}"#),
        ],
        run: Box::new(|input| {
            let _ = idme_core::__fuzzing::userinfo_body(input);
        }),
    });
    targets.push(Target {
        name: "attributes",
        corpus: vec![b(ATTRIBUTES), b(POLICIES)],
        run: Box::new(|input| {
            let _ = idme_core::__fuzzing::attributes_json(input);
        }),
    });
    {
        let w = Rc::clone(&world);
        targets.push(Target {
            name: "logout_token",
            corpus: vec![
                b(&format!("logout_token={}", w.s.logout_token)),
                b(&format!("logout_token={}", w.s.sid_logout_token)),
            ],
            run: Box::new(move |input| {
                let reply =
                    w.rt.block_on(w.s.idme.backchannel_logout(Some(FORM), input));
                assert!(
                    matches!(reply.status, 200 | 400 | 503),
                    "status {}",
                    reply.status
                );
            }),
        });
    }
    debug_assert_eq!(targets.iter().map(|t| t.name).collect::<Vec<_>>(), NAMES);
    targets
}

/// The seeds reach the depth of each parser: valid artefacts pass the real checks, so
/// mutations of them explore the code past the first refusal.
fn check_seeds(world: &World, jwe: &str, jwe_keys: &DecryptionKeys, signed: &[String; 2]) {
    use idme_core::__fuzzing as f;
    let w = &world.s;
    for token in signed {
        assert!(
            f::jws_header(token) && f::jws_verify(&w.jwks, token),
            "seed JWT verifies"
        );
    }
    assert!(f::jwe_decrypt(jwe_keys, jwe).is_some(), "seed JWE decrypts");
    assert!(f::jwks(&w.jwks).is_some_and(|n| n > 0), "seed JWKS parses");
    assert_eq!(
        f::userinfo_body(format!("\"{}\"", signed[0]).as_bytes()),
        Some(3)
    );
    assert!(
        f::attributes_json(ATTRIBUTES.as_bytes()),
        "seed attributes parse"
    );
    assert!(f::callback_params(false, None, w.callback_query.as_bytes()).is_some_and(|n| n >= 2));
    let chunked = f::cookie_reassemble(&[&w.chunked_session_header], SESSION_COOKIE);
    assert!(
        chunked.is_some_and(|r| r.is_ok_and(|n| n > 9000)),
        "chunks reassemble"
    );
    for header in [&w.session_header, &w.chunked_session_header] {
        let cookies = RequestCookies::from_header_values([header.as_str()]);
        let session = world.rt.block_on(w.idme.authenticate(&cookies));
        assert!(session.is_ok(), "the seed session cookie opens");
    }
}
