//! RSA signing keys: generation, the JWKS document, and JWT signing (through `jsonwebtoken`).

use std::io;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The `kid` of the key that signs under [`Fault::UnknownKid`](crate::Fault::UnknownKid); never published.
pub(crate) const UNPUBLISHED_KID: &str = "testkit-unpublished-key";

/// One RSA-2048 signing key with what the JWKS needs to publish it.
pub(crate) struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    /// Modulus, base64url without padding.
    n: String,
    /// Public exponent, base64url without padding.
    e: String,
    /// DER SubjectPublicKeyInfo, used for the quirky `x5t`/`x5c` members.
    spki_der: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key. Slow (hundreds of milliseconds): keep it off async worker threads when
    /// possible.
    pub(crate) fn generate(kid: Option<&str>) -> io::Result<SigningKey> {
        let private =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(io::Error::other)?;
        let der = private.to_pkcs1_der().map_err(io::Error::other)?;
        let public = private.to_public_key();
        let spki_der = public
            .to_public_key_der()
            .map_err(io::Error::other)?
            .into_vec();
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        let kid = match kid {
            Some(kid) => kid.to_owned(),
            None => thumbprint(&n, &e),
        };
        Ok(SigningKey {
            kid,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            n,
            e,
            spki_der,
        })
    }

    /// Its `kid`.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, in the standard or in ID.me's quirky shape.
    pub(crate) fn jwk(&self, quirks: bool) -> Value {
        if quirks {
            // ID.me's recorded sandbox JWKS: `algorithm` instead of `alg`, a padded standard-base64 `x5t` and an
            // `x5c` entry broken over lines. The emulator has no X.509 certificate, so `x5c` carries the
            // SubjectPublicKeyInfo DER and `x5t` a truncated SHA-256 of it: both are deliberately not usable,
            // as lenient clients must ignore them and select by `kid`, `kty` and `use`.
            let x5t = STANDARD.encode(&Sha256::digest(&self.spki_der)[..20]);
            let b64 = STANDARD.encode(&self.spki_der);
            let split = b64.len().min(64);
            let x5c = format!("{}\n{}", &b64[..split], &b64[split..]);
            json!({
                "kty": "RSA",
                "use": "sig",
                "algorithm": "RS256",
                "kid": self.kid,
                "n": self.n,
                "e": self.e,
                "x5t": x5t,
                "x5c": [x5c],
            })
        } else {
            json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": self.n, "e": self.e})
        }
    }
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

type SharedKey = Result<Arc<SigningKey>, String>;

fn cached(cell: &'static OnceLock<SharedKey>, kid: Option<&str>) -> io::Result<Arc<SigningKey>> {
    cell.get_or_init(|| {
        SigningKey::generate(kid)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    })
    .clone()
    .map_err(io::Error::other)
}

/// The process-wide first signing key, generated once and shared by every emulator in the process.
pub(crate) fn first_key() -> io::Result<Arc<SigningKey>> {
    static FIRST: OnceLock<SharedKey> = OnceLock::new();
    cached(&FIRST, None)
}

/// The process-wide key that no JWKS ever lists, for [`Fault::UnknownKid`](crate::Fault::UnknownKid).
pub(crate) fn unpublished_key() -> io::Result<Arc<SigningKey>> {
    static UNPUBLISHED: OnceLock<SharedKey> = OnceLock::new();
    cached(&UNPUBLISHED, Some(UNPUBLISHED_KID))
}

/// The process-wide key the emulators' security events are signed with (a key of its own,
/// published at the events JWKS, never in the OpenID JWKS).
pub(crate) fn events_key() -> io::Result<Arc<SigningKey>> {
    static EVENTS: OnceLock<SharedKey> = OnceLock::new();
    cached(&EVENTS, None)
}

/// Runs a (possibly slow) key lookup or generation on the blocking pool.
pub(crate) async fn off_thread(
    f: impl FnOnce() -> io::Result<Arc<SigningKey>> + Send + 'static,
) -> io::Result<Arc<SigningKey>> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

/// The keys an emulator publishes: the current signing key first, then the one it replaced.
#[derive(Debug, Clone)]
pub(crate) struct KeyRing {
    current: Arc<SigningKey>,
    previous: Option<Arc<SigningKey>>,
}

impl KeyRing {
    pub(crate) fn new(first: Arc<SigningKey>) -> Self {
        KeyRing {
            current: first,
            previous: None,
        }
    }

    pub(crate) fn current(&self) -> Arc<SigningKey> {
        Arc::clone(&self.current)
    }

    /// Makes `next` the signing key; the current one stays published as the previous key.
    pub(crate) fn rotate(&mut self, next: Arc<SigningKey>) {
        let old = std::mem::replace(&mut self.current, next);
        self.previous = Some(old);
    }

    /// The JWKS document.
    pub(crate) fn jwks(&self, quirks: bool) -> Value {
        let keys: Vec<Value> = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .map(|k| k.jwk(quirks))
            .collect();
        json!({ "keys": keys })
    }
}

/// Signs `claims` as an RS256 compact JWS; `kid` in the header unless `with_kid` is false.
pub(crate) fn sign(
    claims: &impl Serialize,
    key: &SigningKey,
    with_kid: bool,
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::RS256);
    if with_kid {
        header.kid = Some(key.kid.clone());
    }
    jsonwebtoken::encode(&header, claims, &key.encoding)
}

/// Signs `claims` as an RS256 compact JWS with `kid` and the media type `typ` (none when
/// `None`) in the header.
pub(crate) fn sign_typed(
    claims: &impl Serialize,
    key: &SigningKey,
    typ: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key.encoding)
}

/// An unsecured JWT (`alg: none`, empty signature), as RFC 7519 §6 defines it.
pub(crate) fn unsigned(claims: &impl Serialize) -> Result<String, serde_json::Error> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
    Ok(format!("{header}.{payload}."))
}

/// Flips every bit of the signature's first and last bytes, leaving a well-formed but invalid JWS.
pub(crate) fn corrupt_signature(jwt: &str) -> String {
    let Some((message, signature)) = jwt.rsplit_once('.') else {
        return jwt.to_owned();
    };
    match URL_SAFE_NO_PAD.decode(signature) {
        Ok(mut bytes) if !bytes.is_empty() => {
            if let Some(first) = bytes.first_mut() {
                *first ^= 0xff;
            }
            if let Some(last) = bytes.last_mut() {
                *last ^= 0xff;
            }
            format!("{message}.{}", URL_SAFE_NO_PAD.encode(bytes))
        }
        _ => format!("{message}.{}", URL_SAFE_NO_PAD.encode(b"not a signature")),
    }
}
