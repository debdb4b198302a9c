//! Options that weaken security, fenced off behind [`IdmeBuilder::dangerous`](crate::IdmeBuilder::dangerous).

use std::time::Duration;

use crate::config::{IdmeBuilder, IdmeConfig};
use crate::error::Error;

/// A builder whose extra methods weaken checks. Obtain it with
/// [`IdmeBuilder::dangerous`](crate::IdmeBuilder::dangerous); return with [`safe`](Self::safe).
#[derive(Debug, Clone)]
pub struct DangerousIdmeBuilder {
    pub(crate) inner: IdmeBuilder,
}

impl DangerousIdmeBuilder {
    /// Allows a clock skew above five minutes (tests with simulated clocks only).
    pub fn insecure_clock_skew(mut self, skew: Duration) -> Self {
        self.inner.set_clock_skew_unchecked(skew);
        self
    }

    /// Back to the ordinary builder.
    pub fn safe(self) -> IdmeBuilder {
        self.inner
    }

    /// Builds the configuration, skipping only the checks this builder relaxed.
    pub fn build(self) -> Result<IdmeConfig, Error> {
        let mut inner = self.inner;
        let skew = inner.take_clock_skew_for_danger();
        let mut config = inner.build()?;
        config.clock_skew = skew;
        Ok(config)
    }
}
