use serde::{Deserialize, Serialize};

/// What became of one message for one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryStatus {
    /// The subscriber's member handed it to the subscriber.
    Delivered,
    /// The subscriber is no longer there; it is removed from the registry.
    Unreachable,
    /// No acknowledgement came in time; the message may or may not have been delivered.
    Timeout,
}
