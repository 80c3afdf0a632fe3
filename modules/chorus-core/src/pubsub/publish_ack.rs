use alloc::vec::Vec;

use super::PublishRejection;

/// The answer to a publish.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a publish may be rejected: check the answer"]
pub enum PublishAck {
    /// Every message was planned: sent to its subscribers' members or queued in a group.
    Accepted {
        /// The ids given to the messages, in order.
        message_ids: Vec<u64>,
    },
    /// Nothing was published.
    Rejected {
        /// Why.
        reason: PublishRejection,
    },
}

impl PublishAck {
    /// Whether the publish was accepted.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }
}
