use super::{ProducerError, RetryPolicy};

/// Settings of a [`BatchingProducer`](super::BatchingProducer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerConfig {
    /// A batch is sent as soon as it holds this many messages (default 100).
    pub batch_size: usize,
    /// …or once its oldest message waited this long (default 5 ms).
    pub linger_ms: u64,
    /// Messages waiting at most; more are refused with `Full` (default 10,000).
    pub queue_capacity: usize,
    /// A message not acknowledged this long after it was produced fails with `Timeout`
    /// (default 10 s).
    pub publish_timeout_ms: u64,
    /// Batches published and not yet acknowledged, at most (default 1).
    pub max_in_flight_batches: usize,
    /// What to do with a rejected batch (default `FailBatchAndContinue`).
    pub retry: RetryPolicy,
}

impl ProducerConfig {
    /// The defaults.
    pub const fn new() -> Self {
        Self {
            batch_size: 100,
            linger_ms: 5,
            queue_capacity: 10_000,
            publish_timeout_ms: 10_000,
            max_in_flight_batches: 1,
            retry: RetryPolicy::FailBatchAndContinue,
        }
    }

    /// Checks every rule.
    pub fn validate(&self) -> Result<(), ProducerError> {
        let attempts_ok = match self.retry {
            RetryPolicy::RetryImmediately { max_attempts }
            | RetryPolicy::RetryAfter { max_attempts, .. } => max_attempts >= 1,
            _ => true,
        };
        let ok = self.batch_size >= 1
            && self.queue_capacity >= self.batch_size
            && self.publish_timeout_ms > 0
            && self.max_in_flight_batches >= 1
            && attempts_ok;
        if ok {
            Ok(())
        } else {
            Err(ProducerError::InvalidConfig)
        }
    }
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self::new()
    }
}
