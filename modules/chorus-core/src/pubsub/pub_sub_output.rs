use alloc::string::String;
use alloc::sync::Arc;

use super::{PubSubEvent, PubSubMessage, SubscriberId};
use crate::topology::MemberId;

/// What a broker asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubSubOutput {
    /// Send `message` to `to` (the driver finds its address in the topology).
    Send {
        /// The member.
        to: MemberId,
        /// The message.
        message: PubSubMessage,
    },
    /// Hand a message to a local subscriber. A group message must be completed with
    /// `PubSubBroker::complete` once processed.
    Deliver {
        /// The subscriber.
        subscriber: SubscriberId,
        /// The topic.
        topic: String,
        /// The publishing node.
        publisher: MemberId,
        /// The message id (unique per publisher).
        message_id: u64,
        /// The payload.
        payload: Arc<[u8]>,
        /// The group, for a load-balanced message.
        group: Option<String>,
    },
    /// Publish `event` (as `ClusterEvent::PubSub`).
    Event(PubSubEvent),
}
