//! Pure checks on what the provider returns, with `now` passed in: JWS signatures
//! ([`jws`]), ID tokens ([`id_token`], through `openidconnect`'s verifier), the `iss`/`aud`
//! of the other signed JWTs ([`signed`]) and the userinfo body ([`userinfo`]). Below the
//! provider: the back-channel logout token, whose check needs the provider's keys, is
//! `logout::token`'s.

pub(crate) mod accept;
pub(crate) mod id_token;
#[cfg(test)]
mod id_token_tests;
pub(crate) mod jws;
pub(crate) mod key_set;
pub(crate) mod signed;
pub(crate) mod userinfo;
pub(crate) mod verifying_key;
#[cfg(test)]
mod verifying_key_tests;
