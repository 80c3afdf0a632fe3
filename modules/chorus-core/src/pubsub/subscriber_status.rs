use serde::{Deserialize, Serialize};

use super::{DeliveryStatus, SubscriberId};

/// What became of one message for one subscriber, as its member reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberStatus {
    /// The subscriber.
    pub subscriber: SubscriberId,
    /// The message.
    pub message_id: u64,
    /// Delivered, or unreachable.
    pub status: DeliveryStatus,
}
