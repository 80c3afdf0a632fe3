use alloc::string::String;

use crate::cluster::ClusterEvent;
use crate::pubsub::LocalDelivery;
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
