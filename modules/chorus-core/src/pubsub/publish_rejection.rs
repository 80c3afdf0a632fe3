use core::fmt;

use serde::{Deserialize, Serialize};

/// Why a publish was refused; nothing of it was delivered or queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PublishRejection {
    /// The topic has no subscriber in the registry.
    NoSubscribers,
    /// A payload is larger than `max_payload_bytes`.
    PayloadTooLarge,
    /// A load-balanced group of the topic cannot take that many more messages.
    QueueFull,
    /// The topic name is empty, too long or contains control characters.
    InvalidTopic,
    /// Pub/sub is not started.
    NotStarted,
    /// The publish was not acknowledged in time (reported by producers).
    Timeout,
}

impl fmt::Display for PublishRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoSubscribers => "the topic has no subscribers",
            Self::PayloadTooLarge => "a payload is larger than the limit",
            Self::QueueFull => "a load-balanced group's queue is full",
            Self::InvalidTopic => "invalid topic name",
            Self::NotStarted => "pub/sub is not started",
            Self::Timeout => "the publish was not acknowledged in time",
        })
    }
}
