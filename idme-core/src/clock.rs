//! [`Clock`]: where the engine reads the time. The engine reads it once per entry point
//! and passes `now` down; validation never reads a clock.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in Unix seconds. The system clock by default; tests set a
/// simulated one with [`DangerousIdmeBuilder::clock`](crate::config::danger::DangerousIdmeBuilder::clock).
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// let t = Arc::new(AtomicU64::new(1_700_000_000));
/// let clock = idme_core::Clock::from_fn({
///     let t = Arc::clone(&t);
///     move || t.load(Ordering::SeqCst)
/// });
/// t.fetch_add(60, Ordering::SeqCst);
/// assert_eq!(clock.now(), 1_700_000_060);
/// ```
#[derive(Clone)]
pub struct Clock(Option<Arc<dyn Fn() -> u64 + Send + Sync>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock reading `now` (Unix seconds) on every call.
    pub fn from_fn(now: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(now)))
    }

    /// The current time, in seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        match &self.0 {
            Some(now) => now(),
            None => system_now(),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Clock(simulated)"
        } else {
            "Clock(system)"
        })
    }
}

/// Seconds since the Unix epoch, by the system clock.
pub(crate) fn system_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
