//! Options that weaken security, fenced off behind [`IdmeBuilder::dangerous`](crate::IdmeBuilder::dangerous).
//!
//! Each option sets the value and a flag on the builder saying that its check is relaxed;
//! [`IdmeBuilder::build`](crate::IdmeBuilder::build) reads the flag. A built
//! configuration is never edited afterwards.

use std::time::Duration;

use crate::config::{ConfigError, IdmeBuilder, IdmeConfig};

/// A builder whose extra methods weaken checks. Obtain it with
/// [`IdmeBuilder::dangerous`](crate::IdmeBuilder::dangerous); return with [`safe`](Self::safe).
#[derive(Debug, Clone)]
pub struct DangerousIdmeBuilder {
    pub(crate) inner: IdmeBuilder,
}

impl IdmeBuilder {
    /// Options that weaken security, for tests only.
    pub fn dangerous(self) -> DangerousIdmeBuilder {
        DangerousIdmeBuilder { inner: self }
    }
}

impl DangerousIdmeBuilder {
    /// Allows a clock skew above five minutes (tests with simulated clocks only).
    pub fn insecure_clock_skew(mut self, skew: Duration) -> Self {
        self.inner.settings.clock_skew = skew;
        self.inner.relaxed.clock_skew = true;
        self
    }

    /// Sets where the engine reads the time (Unix seconds), for tests with a simulated
    /// clock only: a clock that is not the real time breaks every expiry check.
    pub fn clock(mut self, clock: crate::Clock) -> Self {
        self.inner.settings.clock = clock;
        self
    }

    /// Back to the ordinary builder; the checks relaxed here stay relaxed.
    pub fn safe(self) -> IdmeBuilder {
        self.inner
    }

    /// Builds the configuration, skipping only the checks this builder relaxed.
    pub fn build(self) -> Result<IdmeConfig, ConfigError> {
        self.inner.build()
    }
}
