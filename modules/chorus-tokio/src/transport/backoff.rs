//! Delays between reconnection attempts.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff between `min` and `max`, with jitter; saturates rather than
/// overflowing, whatever the settings.
#[derive(Debug, Clone, Copy)]
pub(super) struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub(super) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            current: min,
        }
    }

    /// The next pause: the current delay plus up to half of it, then the delay doubles
    /// up to `max`.
    pub(super) fn next_pause(&mut self) -> Duration {
        let pause = jittered(self.current);
        self.current = self.current.saturating_mul(2).min(self.max);
        pause
    }

    /// Back to `min`, after a success.
    pub(super) fn reset(&mut self) {
        self.current = self.min;
    }
}

/// `base` plus up to half of it, so that peers do not reconnect in lock step.
fn jittered(base: Duration) -> Duration {
    let half = base / 2;
    let extra = rand::rng().random_range(0..=half.as_nanos().min(u128::from(u64::MAX)) as u64);
    base.saturating_add(Duration::from_nanos(extra))
}
