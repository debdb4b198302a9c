//! A flow driven by hand, for the steps' tests: each request it asks for (a JWKS request
//! standing for a key set) comes out, and the test hands the answer in, at the `now` it
//! chooses. The real driver is `driver`.

use super::keys;
use super::step::{Ctx, Flow, Next};
use crate::error::Error;
use crate::http_client::HttpResponse;
use crate::provider::Outbound;
use crate::validate::jws::KeysWanted;

/// Where a flow driven by hand stands.
pub(crate) enum Stage<'a, F: Flow> {
    /// It asks for this request, and waits for the answer.
    Asks(Box<Outbound>, Waiting<'a, F>),
    /// It is over.
    Done(F::Output),
}

impl<F: Flow> std::fmt::Debug for Stage<'_, F>
where
    F::Output: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::Asks(request, _) => f.debug_tuple("Asks").field(request).finish(),
            Stage::Done(output) => f.debug_tuple("Done").field(output).finish(),
        }
    }
}

/// A flow waiting for the answer to the request it asked for.
pub(crate) struct Waiting<'a, F: Flow> {
    ctx: Ctx<'a>,
    pub(crate) on: On<F>,
}

/// What the flow waits for.
pub(crate) enum On<F: Flow> {
    /// The answer to its request.
    Response(F::Awaiting),
    /// A key set (the answer to the JWKS request).
    Keys(KeysWanted, F::Verifying),
}

/// Where `next` leaves the flow.
pub(crate) fn stage<F: Flow>(ctx: Ctx<'_>, next: Next<F>) -> Result<Stage<'_, F>, Error> {
    Ok(match next {
        Next::Send(request, state) => Stage::Asks(
            request,
            Waiting {
                ctx,
                on: On::Response(state),
            },
        ),
        Next::NeedKeys(wanted, state) => Stage::Asks(
            Box::new(keys::request(ctx.meta)?),
            Waiting {
                ctx,
                on: On::Keys(wanted, state),
            },
        ),
        Next::Done(output) => Stage::Done(output),
    })
}

impl<'a, F: Flow> Waiting<'a, F> {
    /// The key set it waits for, if it waits for one.
    pub(crate) fn wanted(&self) -> Option<KeysWanted> {
        match self.on {
            On::Keys(wanted, _) => Some(wanted),
            On::Response(_) => None,
        }
    }

    /// Hands it `response`, at `now`.
    pub(crate) fn answer(self, response: HttpResponse, now: u64) -> Result<Stage<'a, F>, Error> {
        let Waiting { mut ctx, on } = self;
        let next = match on {
            On::Response(state) => F::on_response(state, &ctx, response, now)?,
            On::Keys(wanted, state) => {
                keys::put(&mut ctx, Some(keys::read(response, wanted, now)?))?;
                F::on_keys(state, &ctx, now)?
            }
        };
        stage(ctx, next)
    }

    /// Answers its key-set request as the provider's cache does when a refetch comes too
    /// soon after the last one.
    pub(crate) fn refetch_refused(self, now: u64) -> Result<Stage<'a, F>, Error> {
        let Waiting { mut ctx, on } = self;
        let On::Keys(_, state) = on else {
            panic!("it waits for a response, not for keys")
        };
        keys::put(&mut ctx, None)?;
        let next = F::on_keys(state, &ctx, now)?;
        stage(ctx, next)
    }
}
