use alloc::string::String;
use alloc::sync::Arc;

use crate::cluster::ClusterEvent;
use crate::pubsub::SubscriberId;
use crate::topology::MemberId;
use crate::wire::Frame;

/// What a [`Node`](super::Node) asks its driver to do, drained in one place
/// ([`Node::drain_outputs`](super::Node::drain_outputs)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeOutput {
    /// Send `frame` to the node listening at `to`.
    Send {
        /// The peer's address.
        to: String,
        /// The frame: gossip, or pub/sub for a member whose address the node looked up.
        frame: Frame,
    },
    /// Publish `event` on the node's `EventStream`.
    Event(ClusterEvent),
    /// Hand a message to a local subscriber.
    Deliver(LocalDelivery),
}

/// A message for a subscriber of this node. A group message must be completed
/// ([`Node::complete`](super::Node::complete)) once processed, or its instance stays
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
