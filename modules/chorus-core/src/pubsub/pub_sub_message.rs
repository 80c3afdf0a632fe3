use serde::{Deserialize, Serialize};

use super::{DeliveryAck, DeliveryBatch, GroupCompletion};
use crate::topology::MemberId;

/// The messages of pub/sub delivery (carried by `wire::Frame::PubSub`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PubSubMessage {
    /// Messages for subscribers on the receiving member.
    Batch(DeliveryBatch),
    /// What the receiving member did with a batch.
    Ack(DeliveryAck),
    /// A group instance finished messages.
    Completed(GroupCompletion),
}

impl PubSubMessage {
    /// The member the message says it comes from (its `from` field).
    pub fn sender(&self) -> &MemberId {
        match self {
            Self::Batch(batch) => &batch.from,
            Self::Ack(ack) => &ack.from,
            Self::Completed(done) => &done.from,
        }
    }
}
