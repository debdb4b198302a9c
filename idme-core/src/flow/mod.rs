//! The sign-in flow, one module per idea, in layers:
//! - data: `step` (what every step is told and gives: `Ctx`, `Next`, the `Flow` trait,
//!   tokens);
//! - leaf steps, which return values: `token` (the token endpoint), `keys` (the provider's
//!   key set), `userinfo`, `attributes` (`attributes.json`), `refresh` (the refresh grant,
//!   also the whole of a session refresh);
//! - one coordinator per flow, which owns the transitions and gives a typed output:
//!   `user_data` (userinfo and/or `attributes.json`, spending each access token once) and
//!   `sign_in` (the callback's protocol half: `iss`, the ID tokens, the code exchange, the
//!   user's data, the session);
//! - around them: `start` builds the authorization request and the pending-login cookie
//!   (`pending`); `callback` reads the authorization response from whichever channel the
//!   response mode uses; `complete` opens the pending login and refuses replays (`replay`);
//!   `driver` runs any flow.
//!
//! The steps are sans-IO: a flow's states are owned values, consumed by
//! `on_response(state, ctx, response, now)` or, once a key set it asked for is in the
//! context, `on_keys(state, ctx, now)`, which give the next request, the key set to get,
//! or the output. They never await and never read a clock; `driver` sends the requests
//! through the provider's HTTP client, gets key sets from the provider's cache and tells
//! them `now`.
//!
//! [`ResponseType`] × [`ResponseMode`] (configuration vocabulary, in [`config`](crate::config))
//! decide what a callback must contain and which checks apply (`ResponseType::plan`).

pub(crate) mod attributes;
pub(crate) mod callback;
pub(crate) mod complete;
pub(crate) mod driver;
pub(crate) mod keys;
pub(crate) mod pending;
pub(crate) mod refresh;
pub(crate) mod replay;
pub(crate) mod return_to;
pub(crate) mod sign_in;
pub(crate) mod start;
pub(crate) mod step;
pub(crate) mod token;
pub(crate) mod user_data;
pub(crate) mod userinfo;

pub use callback::{CallbackInput, CallbackMethod};

// The configuration's vocabulary, which the steps name as `flow::...`.
pub(crate) use crate::config::FlowPlan;
pub use crate::config::Prompt;
pub use crate::config::{ResponseMode, ResponseType};
pub(crate) use crate::config::{assurance, prompt};
pub use return_to::MAX_RETURN_TO;
pub(crate) use return_to::sanitize_return_to;
pub use start::{LoginOptions, Screen, pkce_challenge};

#[cfg(test)]
mod by_hand;
#[cfg(test)]
mod step_tests;
