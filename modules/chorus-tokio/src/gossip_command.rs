//! What the gossip loop is asked to do.

use std::time::Duration;

use chorus_core::consensus::{ConsensusCheck, ConsensusHandle};
use chorus_core::gossip::{GossipNode, GossiperError};
use chorus_core::pubsub::{PubSubError, PublishAck, SubscriberId, Subscription};
use chorus_core::topology::MemberId;
use tokio::sync::{mpsc, oneshot};

use crate::NodeError;
use crate::tokio_pub_sub::LocalSink;
use crate::transport::{InboundMessage, TokioTcpTransport};

/// A reply channel.
pub(crate) type Reply<T> = oneshot::Sender<T>;

/// A request to the task that owns the `GossipNode`.
pub(crate) enum GossipCommand {
    /// The provider hands over the node, the transport and the inbound messages.
    Attach {
        node: Box<GossipNode>,
        transport: TokioTcpTransport,
        inbound: mpsc::Receiver<InboundMessage>,
    },
    Set {
        key: String,
        value: Vec<u8>,
        reply: Reply<Result<bool, GossiperError>>,
    },
    Get {
        member: MemberId,
        key: String,
        reply: Reply<Option<Vec<u8>>>,
    },
    Member {
        reply: Reply<MemberId>,
    },
    RegisterConsensus {
        check: ConsensusCheck,
        reply: Reply<ConsensusHandle>,
    },
    RemoveConsensus {
        handle: ConsensusHandle,
        reply: Reply<bool>,
    },
    Consensus {
        handle: ConsensusHandle,
        reply: Reply<Option<Vec<u8>>>,
    },
    TopologyConsensus {
        reply: Reply<Option<u64>>,
    },
    Transport {
        reply: Reply<TokioTcpTransport>,
    },
    /// Replace the node's seed addresses with what the seed names resolve to now.
    SetSeeds {
        seeds: Vec<String>,
    },
    /// Leave gracefully; the reply comes once every peer acknowledged, or after `timeout`
    /// with the peers that did not.
    Leave {
        timeout: Duration,
        reply: Reply<Result<(), NodeError>>,
    },
    /// Subscribe a new local subscriber fed through `sink`; the reply is its id.
    Subscribe {
        topic: String,
        group: Option<String>,
        max_in_flight: u32,
        sink: LocalSink,
        reply: Reply<Result<SubscriberId, PubSubError>>,
    },
    /// Unsubscribe a local subscriber; a dropped stream sends it without a reply.
    Unsubscribe {
        topic: String,
        subscriber: SubscriberId,
        reply: Option<Reply<Result<(), PubSubError>>>,
    },
    Publish {
        topic: String,
        payloads: Vec<Vec<u8>>,
        reply: Reply<PublishAck>,
    },
    /// A local group instance finished a message.
    Complete {
        publisher: MemberId,
        topic: String,
        group: String,
        subscriber: SubscriberId,
        message_id: u64,
        reply: Reply<Result<(), PubSubError>>,
    },
    /// The registry's subscriptions of a topic.
    Subscriptions {
        topic: String,
        reply: Reply<Vec<Subscription>>,
    },
    /// Every subscription of the registry, sorted by topic, member and subscriber.
    AllSubscriptions {
        reply: Reply<Vec<Subscription>>,
    },
}
