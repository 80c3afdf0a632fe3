use chorus_core::gossip::GossipMessage;
use chorus_core::pubsub::PubSubMessage;

/// What an accepted connection carried after its handshake: gossip for the gossip node,
/// pub/sub delivery for the broker.
#[derive(Debug, Clone)]
pub(crate) enum InboundFrame {
    /// A gossip message (`Frame::Gossip`).
    Gossip(GossipMessage),
    /// A pub/sub message (`Frame::PubSub`); the broker checks that its declared sender is
    /// the connection's member.
    PubSub(PubSubMessage),
}
