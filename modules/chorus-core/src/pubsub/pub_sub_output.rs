use super::{LocalDelivery, PubSubEvent, PubSubMessage};
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
    Deliver(LocalDelivery),
    /// Publish `event` (as `ClusterEvent::PubSub`).
    Event(PubSubEvent),
}
