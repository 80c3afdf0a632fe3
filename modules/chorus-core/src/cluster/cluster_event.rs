use alloc::string::String;
use alloc::vec::Vec;

use crate::event_stream::EventClass;
use crate::pubsub::PubSubEvent;
use crate::topology::{ClusterTopology, MemberId, TopologyError};
use crate::wire::HandshakeRefusal;

use super::ClusterError;

/// Everything that happens to a cluster node, published on its `EventStream`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterEvent {
    /// The node started: pub/sub, gossiper and provider run.
    Startup {
        /// This node.
        member: MemberId,
    },
    /// Start failed; what had started was stopped again.
    StartupFailed {
        /// The step that failed and why.
        reason: ClusterError,
    },
    /// The node shut down.
    Shutdown {
        /// This node.
        member: MemberId,
    },
    /// A step of the shutdown failed; the other steps still ran.
    ShutdownFailed {
        /// The step that failed and why.
        reason: ClusterError,
    },
    /// A provider published a new view of the cluster; the `ClusterExtension` applies it.
    TopologyUpdated(ClusterTopology),
    /// A published topology broke a rule and was not applied.
    TopologyApplyFailed {
        /// The rule it broke.
        reason: TopologyError,
    },
    /// A key of a member's gossip state changed here (a local write or an accepted entry).
    GossipUpdated {
        /// The member that owns the key.
        member: MemberId,
        /// The key.
        key: String,
        /// The owner's sequence number of the new value.
        seq: u64,
    },
    /// Every live member now publishes the same value for a consensus check.
    ConsensusReached {
        /// The check's name.
        check: String,
        /// The agreed value.
        value: Vec<u8>,
    },
    /// A check that had consensus no longer has it.
    ConsensusLost {
        /// The check's name.
        check: String,
    },
    /// This node learnt that a peer blocked it: to the cluster of that peer it is gone.
    BlockedByPeer {
        /// The peer that blocked this node.
        peer: MemberId,
        /// How many live members that peer sees.
        peer_members: u32,
    },
    /// This node joined again under a new incarnation after being blocked.
    Rejoined {
        /// The blocked identity.
        previous: MemberId,
        /// The new identity.
        member: MemberId,
    },
    /// A connection failed its handshake: a node of another cluster or protocol version.
    /// The peer never enters the membership.
    HandshakeFailed {
        /// The peer's address.
        address: String,
        /// Why the handshake failed.
        reason: HandshakeRefusal,
        /// Whether the peer refused us (true) or we refused the peer (false).
        refused_by_peer: bool,
    },
    /// Something pub/sub did (published, delivered, subscribed, …).
    PubSub(PubSubEvent),
    /// A gossip message claimed another sender than the member its connection's handshake
    /// named, and was dropped: one connection cannot speak for another member.
    ForgedSender {
        /// The peer's address.
        address: String,
        /// The member the connection belongs to.
        member: MemberId,
        /// The sender the message claimed.
        claimed: MemberId,
    },
}

impl ClusterEvent {
    /// The replay ring and buffer class of this event: [`EventClass::Transient`] for
    /// `PubSub(_)`, `GossipUpdated` and `ForgedSender`, [`EventClass::Lasting`] for
    /// everything else.
    ///
    /// Pub/sub and gossip events come in proportion to traffic — one per message or per
    /// key written, thousands a second — while lifecycle, membership, consensus and
    /// handshake events are rare and are what a late or slow reader must not miss. Event
    /// streams and buffers that keep the classes apart let traffic evict only traffic.
    ///
    /// ```
    /// use chorus_core::cluster::ClusterEvent;
    /// use chorus_core::event_stream::EventClass;
    /// use chorus_core::topology::MemberId;
    ///
    /// let startup = ClusterEvent::Startup { member: MemberId::new("a", 1) };
    /// assert_eq!(startup.class(), EventClass::Lasting);
    /// ```
    pub fn class(&self) -> EventClass {
        // No wildcard: a new variant must be given a class on purpose.
        match self {
            // A refusal a hostile peer can repeat at will: it must not crowd out the rest.
            Self::PubSub(_) | Self::GossipUpdated { .. } | Self::ForgedSender { .. } => {
                EventClass::Transient
            }
            Self::Startup { .. }
            | Self::StartupFailed { .. }
            | Self::Shutdown { .. }
            | Self::ShutdownFailed { .. }
            | Self::TopologyUpdated(_)
            | Self::TopologyApplyFailed { .. }
            | Self::ConsensusReached { .. }
            | Self::ConsensusLost { .. }
            | Self::BlockedByPeer { .. }
            | Self::Rejoined { .. }
            | Self::HandshakeFailed { .. } => EventClass::Lasting,
        }
    }
}
