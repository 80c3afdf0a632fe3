/// What a [`BatchingProducer`](super::BatchingProducer) does with a batch whose publish
/// was rejected or timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryPolicy {
    /// Fail the batch's messages and stop: queued messages fail too, later ones are refused.
    FailBatchAndStop,
    /// Fail the batch's messages and go on with the next.
    FailBatchAndContinue,
    /// Publish the batch again at once, up to `max_attempts` attempts in all.
    RetryImmediately {
        /// Attempts in all, the first included (at least 1).
        max_attempts: u32,
    },
    /// Publish the batch again after `delay_ms`, up to `max_attempts` attempts in all.
    RetryAfter {
        /// Wait before each new attempt.
        delay_ms: u64,
        /// Attempts in all, the first included (at least 1).
        max_attempts: u32,
    },
}
