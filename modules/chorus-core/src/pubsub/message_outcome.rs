use super::PublishRejection;

/// What became of a message given to a producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Its batch was accepted.
    Published,
    /// It was not published.
    Failed {
        /// Why (`Timeout` when not acknowledged in time).
        reason: PublishRejection,
    },
    /// It was cancelled before being sent.
    Cancelled,
    /// The producer stopped before sending it.
    Stopped,
}
