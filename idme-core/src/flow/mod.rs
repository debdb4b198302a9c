//! The sign-in flow as a sequence of steps, one module each: `start` builds the
//! authorization request and the pending-login cookie (`pending`); `callback` reads the
//! authorization response from whichever channel the response mode uses; `complete` opens
//! the pending login and refuses replays; `callback_steps` checks the response, exchanges
//! the code and makes the session; `token` exchanges a code (and `refresh` refreshes); `userinfo` and
//! `user_data` read who the user is; `keys` waits for the provider's key set.
//!
//! Those steps are sans-IO: each is a struct named for the answer it waits for
//! (`ExpectTokenResponse`, `ExpectUserinfo`, `ExpectRefreshedTokens`, `ExpectAttributes`,
//! `ExpectKeys`), consumed by `handle(self, response, now)`, which gives the next request
//! or the outcome (`step`). They never await and never read a clock; `driver` sends the
//! requests through the provider's HTTP client and tells them `now`.
//!
//! [`ResponseType`] × [`ResponseMode`] (configuration vocabulary, in [`config`](crate::config))
//! decide what a callback must contain and which checks apply (`ResponseType::plan`).

pub(crate) mod callback;
pub(crate) mod callback_steps;
pub(crate) mod complete;
pub(crate) mod driver;
pub(crate) mod keys;
pub(crate) mod pending;
pub(crate) mod refresh;
pub(crate) mod replay;
pub(crate) mod return_to;
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
mod step_tests;
