use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::SubscriberStatus;
use crate::topology::MemberId;

/// The receiving member's answer to a [`DeliveryBatch`](super::DeliveryBatch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAck {
    /// The batch answered.
    pub batch_id: u64,
    /// The receiving member.
    pub from: MemberId,
    /// One status per (subscriber, message).
    pub statuses: Vec<SubscriberStatus>,
}
