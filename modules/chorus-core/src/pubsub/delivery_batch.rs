use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::BatchMessage;
use crate::topology::MemberId;

/// Everything a publishing node sends one member for one publish: one frame per target
/// member, never one per subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryBatch {
    /// Matches the acknowledgement to the batch.
    pub batch_id: u64,
    /// The publishing node.
    pub from: MemberId,
    /// The topic.
    pub topic: String,
    /// The messages.
    pub messages: Vec<BatchMessage>,
}
