//! Pure checks on what the provider returns, with `now` passed in: JWS signatures
//! ([`jws`]), ID token claims ([`id_token`]), the `at_hash`/`c_hash` binding ([`hashes`]),
//! and the userinfo body ([`userinfo`]).

pub(crate) mod hashes;
pub(crate) mod id_token;
pub(crate) mod jwe;
pub(crate) mod jws;
pub(crate) mod logout_token;
pub(crate) mod userinfo;
