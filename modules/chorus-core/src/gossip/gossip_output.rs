use alloc::string::String;

use super::GossipMessage;
use crate::cluster::ClusterEvent;

/// What a gossip node asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GossipOutput {
    /// Send `message` to the node listening at `to`.
    Send {
        /// The peer's address.
        to: String,
        /// The message (the driver wraps it in `wire::Frame::Gossip`).
        message: GossipMessage,
    },
    /// Publish `event` on the node's `EventStream`.
    Event(ClusterEvent),
}
