use core::fmt;

/// Why a message was not taken by a producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProducerError {
    /// The queue holds `queue_capacity` messages already.
    Full,
    /// The producer stopped (a `FailBatchAndStop` failure, or `stop`).
    Stopped,
    /// The configuration breaks a rule (zero batch size, queue smaller than a batch, zero
    /// timeout or in-flight batches, zero retry attempts).
    InvalidConfig,
}

impl fmt::Display for ProducerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "the producer's queue is full",
            Self::Stopped => "the producer is stopped",
            Self::InvalidConfig => "invalid producer configuration",
        })
    }
}

impl core::error::Error for ProducerError {}
