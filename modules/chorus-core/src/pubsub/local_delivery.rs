use alloc::string::String;
use alloc::sync::Arc;

use super::SubscriberId;
use crate::topology::MemberId;

/// A message for a subscriber of this node. A group message must be completed
/// (`PubSubBroker::complete`, `Node::complete`) once processed, or its instance stays
/// busy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDelivery {
    /// The local subscriber.
    pub subscriber: SubscriberId,
    /// The topic.
    pub topic: String,
    /// The publishing node.
    pub publisher: MemberId,
    /// The message id (unique per publisher).
    pub message_id: u64,
    /// The payload.
    pub payload: Arc<[u8]>,
    /// The group, for a load-balanced message.
    pub group: Option<String>,
}
