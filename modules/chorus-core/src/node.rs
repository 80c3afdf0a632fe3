//! The node: one gossip node and one pub/sub broker, and every rule that joins them, as
//! one sans-IO state machine that both drivers run (`docs/architecture.md`).

mod node_output;
mod pub_sub;
#[cfg(test)]
mod tests;

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::fmt;

pub use crate::pubsub::LocalDelivery;
pub use node_output::NodeOutput;

use crate::cluster::ClusterEvent;
use crate::consensus::{ConsensusCheck, ConsensusHandle};
use crate::gossip::{
    GossipKeyValue, GossipMessage, GossipMetrics, GossipNode, GossipOutput, GossiperError,
    reserved_keys,
};
use crate::pubsub::{FrameRefusal, PubSubBroker, PubSubEvent, PubSubMessage, PubSubOutput};
use crate::topology::{ClusterTopology, MemberId};
use crate::wire::Frame;

/// A chorus node as a sans-IO state machine: the [`GossipNode`] (membership, state,
/// consensus) and, when the node runs pub/sub, the [`PubSubBroker`], composed once.
///
/// The node holds the rules that join them, so that no driver writes them:
/// - the broker's registry follows the gossip state member by member — a member that
///   joins or leaves the topology, or gossips a new subscription list, is synced alone,
///   never the whole registry;
/// - local subscriptions are written into gossip (`chorus.subscriptions`) whenever they
///   change, and again after a rejoin;
/// - a `Rejoined` gives the broker the new identity: the local subscriptions move to it;
/// - pub/sub frames go to the address the topology gives their member; a frame for a
///   member without a known address is reported (`PubSubEvent::Unroutable`) and its
///   deliveries fail at once, never lost silently;
/// - local subscriber ids are allocated here;
/// - one `now` (milliseconds, the driver's clock) drives both machines.
///
/// Inputs: frames ([`handle_frame`](Self::handle_frame)), time ([`tick`](Self::tick)
/// every gossip interval, [`poll`](Self::poll) at [`next_wake_at`](Self::next_wake_at)),
/// and the local API (set/get, consensus, subscribe, publish, complete, leave). Outputs:
/// [`drain_outputs`](Self::drain_outputs) — frames to addresses, events, deliveries to
/// local subscribers — after any input.
pub struct Node {
    gossip: GossipNode,
    pub_sub: Option<PubSubBroker>,
    next_subscriber: u64,
    outputs: Vec<NodeOutput>,
}

impl Node {
    /// A node running `gossip` alone (no pub/sub).
    pub fn new(gossip: GossipNode) -> Self {
        let mut node = Self {
            gossip,
            pub_sub: None,
            next_subscriber: 1,
            outputs: Vec::new(),
        };
        node.settle(0);
        node
    }

    /// This node's member id (a new incarnation after a rejoin).
    pub fn member_id(&self) -> &MemberId {
        self.gossip.member_id()
    }

    /// The gossip node, to read (membership, state, consensus, metrics).
    pub fn gossip(&self) -> &GossipNode {
        &self.gossip
    }

    /// The current view of the cluster.
    pub fn topology(&self) -> &ClusterTopology {
        self.gossip.topology()
    }

    /// The gossip counters.
    pub fn gossip_metrics(&self) -> GossipMetrics {
        self.gossip.metrics()
    }

    /// Replaces the seed addresses the gossip node contacts while it knows no peer and in
    /// its seed probes (see [`GossipNode::set_seeds`]).
    pub fn set_seeds(&mut self, seeds: Vec<alloc::string::String>) {
        self.gossip.set_seeds(seeds);
    }

    /// When the driver should call [`tick`](Self::tick) next.
    pub fn next_round_at(&self) -> u64 {
        self.gossip.next_round_at()
    }

    /// When the driver should call [`poll`](Self::poll) (or `tick`, when that comes
    /// first).
    pub fn next_wake_at(&self) -> u64 {
        self.gossip.next_wake_at()
    }

    /// A gossip round and the broker's delivery timeouts: call every gossip interval.
    pub fn tick(&mut self, now: u64) {
        self.gossip.tick(now);
        if let Some(broker) = self.pub_sub.as_mut() {
            broker.tick(now);
        }
        self.settle(now);
    }

    /// The deferred work due at `now` (a topology refresh after joins, consensus checks).
    pub fn poll(&mut self, now: u64) {
        self.gossip.poll(now);
        self.settle(now);
    }

    /// Handles a frame received on a connection: `from` is the peer's address, `member`
    /// the member its handshake authenticated (pub/sub frames need one and are dropped
    /// without). Handshake frames are the transport's and are ignored here.
    pub fn handle_frame(&mut self, from: &str, member: Option<&MemberId>, frame: Frame, now: u64) {
        match frame {
            Frame::Gossip(message) => self.handle_gossip(from, member, message, now),
            Frame::PubSub(message) => {
                if let Some(member) = member {
                    self.handle_pub_sub(member, message, now);
                }
            }
            Frame::Handshake(_) | Frame::HandshakeAccepted(_) | Frame::HandshakeRefused(_) => {}
        }
    }

    /// Handles a gossip message from the peer at address `from`, on a connection whose
    /// handshake named `member` (when the driver knows it). A message that claims another
    /// sender is dropped and reported (`ClusterEvent::ForgedSender`): one connection
    /// cannot speak for another member.
    pub fn handle_gossip(
        &mut self,
        from: &str,
        member: Option<&MemberId>,
        message: GossipMessage,
        now: u64,
    ) {
        if let Some(member) = member
            && message.sender() != member
        {
            self.outputs
                .push(NodeOutput::Event(ClusterEvent::ForgedSender {
                    address: alloc::string::String::from(from),
                    member: member.clone(),
                    claimed: message.sender().clone(),
                }));
            return;
        }
        self.gossip.handle(from, message, now);
        self.settle(now);
    }

    /// Handles a pub/sub message from `from`, the member the connection's handshake
    /// established. A node without pub/sub ignores it (the publisher times out).
    ///
    /// Refused, with `PubSubEvent::FrameRefused`: a message from a member this node has
    /// never heard of through gossip (a member joining is heard of before its first
    /// batch: it gossips before it publishes), and a batch carrying a payload over this
    /// node's `max_payload_bytes` (the receiver checks the limit itself, whatever the
    /// publisher's settings). A refused batch is not acknowledged: its publisher times it
    /// out.
    pub fn handle_pub_sub(&mut self, from: &MemberId, message: PubSubMessage, now: u64) {
        let Some(broker) = self.pub_sub.as_mut() else {
            return;
        };
        let known = self.gossip.topology().contains(from)
            || self.gossip.store().state().member(from).is_some();
        let max_payload = broker.config().max_payload_bytes;
        let refusal = if !known {
            Some(FrameRefusal::NotAMember)
        } else if let PubSubMessage::Batch(batch) = &message
            && batch.messages.iter().any(|m| m.payload.len() > max_payload)
        {
            Some(FrameRefusal::PayloadTooLarge)
        } else {
            None
        };
        if let Some(reason) = refusal {
            self.outputs.push(NodeOutput::Event(ClusterEvent::PubSub(
                PubSubEvent::FrameRefused {
                    from: from.clone(),
                    reason,
                },
            )));
        } else {
            broker.handle(from, message, now);
            self.settle(now);
        }
    }

    /// Writes a local key and pushes the change at once; returns whether it changed.
    pub fn set(&mut self, key: &str, value: &[u8], now: u64) -> Result<bool, GossiperError> {
        let result = self.gossip.set(key, value, now);
        self.settle(now);
        result
    }

    /// Sets `map_key` in the map kept under the local `key`.
    pub fn map_set(
        &mut self,
        key: &str,
        map_key: &str,
        value: &[u8],
        now: u64,
    ) -> Result<bool, GossiperError> {
        let result = self.gossip.map_set(key, map_key, value, now);
        self.settle(now);
        result
    }

    /// Removes `map_key` from the map kept under the local `key`.
    pub fn map_remove(
        &mut self,
        key: &str,
        map_key: &str,
        now: u64,
    ) -> Result<bool, GossiperError> {
        let result = self.gossip.map_remove(key, map_key, now);
        self.settle(now);
        result
    }

    /// The value of `key` owned by `member`, as known here.
    pub fn get(&self, member: &MemberId, key: &str) -> Option<&GossipKeyValue> {
        self.gossip.get(member, key)
    }

    /// Registers a consensus check.
    pub fn register_consensus(&mut self, check: ConsensusCheck, now: u64) -> ConsensusHandle {
        let handle = self.gossip.register_consensus(check, now);
        self.settle(now);
        handle
    }

    /// Removes a consensus check; returns whether it was registered.
    pub fn remove_consensus(&mut self, handle: ConsensusHandle) -> bool {
        self.gossip.remove_consensus(handle)
    }

    /// The value every live member agrees on for the check, if they do.
    pub fn consensus(&self, handle: ConsensusHandle) -> Option<&[u8]> {
        self.gossip.consensus(handle)
    }

    /// The topology hash every live member agrees on, if they do.
    pub fn topology_consensus(&self) -> Option<u64> {
        self.gossip.topology_consensus()
    }

    /// Leaves gracefully: writes the left key and tells every live peer (the
    /// subscriptions leave with the node). See [`GossipNode::leave`].
    pub fn leave(&mut self, now: u64) -> Result<(), GossiperError> {
        let result = self.gossip.leave(now);
        self.settle(now);
        result
    }

    /// Whether the node left (or is leaving).
    pub fn has_left(&self) -> bool {
        self.gossip.has_left()
    }

    /// Whether every peer acknowledged the leave.
    pub fn leave_acknowledged(&self) -> bool {
        self.gossip.leave_acknowledged()
    }

    /// The peers that have not acknowledged the leave yet, sorted.
    pub fn leave_unacknowledged(&self) -> Vec<MemberId> {
        self.gossip.leave_unacknowledged()
    }

    /// Takes what the node asked for since the last call, in order.
    pub fn drain_outputs(&mut self) -> Vec<NodeOutput> {
        core::mem::take(&mut self.outputs)
    }

    /// Moves what the two machines produced into the node's outputs, applying the rules
    /// that join them, until neither has anything more to say.
    fn settle(&mut self, now: u64) {
        loop {
            let gossip = self.gossip.drain_outputs();
            let pub_sub = self
                .pub_sub
                .as_mut()
                .map(PubSubBroker::drain_outputs)
                .unwrap_or_default();
            if gossip.is_empty() && pub_sub.is_empty() {
                return;
            }
            self.take_gossip(gossip, now);
            self.take_pub_sub(pub_sub, now);
        }
    }

    fn take_gossip(&mut self, outputs: Vec<GossipOutput>, now: u64) {
        let mut touched: BTreeSet<MemberId> = BTreeSet::new();
        let mut rejoined = None;
        for output in outputs {
            match output {
                GossipOutput::Send { to, message } => self.outputs.push(NodeOutput::Send {
                    to,
                    frame: Frame::Gossip(message),
                }),
                GossipOutput::Event(event) => {
                    match &event {
                        ClusterEvent::TopologyUpdated(topology) => {
                            touched.extend(topology.joined().iter().map(|m| m.id().clone()));
                            touched.extend(topology.left().iter().map(|m| m.id().clone()));
                            touched.extend(topology.blocked().iter().cloned());
                        }
                        ClusterEvent::GossipUpdated { member, key, .. }
                            if key == reserved_keys::SUBSCRIPTIONS =>
                        {
                            touched.insert(member.clone());
                        }
                        ClusterEvent::Rejoined { member, .. } => rejoined = Some(member.clone()),
                        _ => {}
                    }
                    self.outputs.push(NodeOutput::Event(event));
                }
            }
        }
        if self.pub_sub.is_none() {
            return;
        }
        if let Some(member) = rejoined {
            self.take_identity(member, now);
        }
        if !touched.is_empty() {
            self.sync_members(&touched, now);
        }
    }

    /// Gives the broker the subscription lists of `members` that are in the topology, and
    /// takes those that are not out of its registry.
    fn sync_members(&mut self, members: &BTreeSet<MemberId>, now: u64) {
        let Some(broker) = self.pub_sub.as_mut() else {
            return;
        };
        let topology = self.gossip.topology();
        let me = self.gossip.member_id();
        let mut changed: Vec<(&MemberId, Option<&[u8]>)> = Vec::new();
        let mut gone: Vec<MemberId> = Vec::new();
        for member in members {
            if member == me || topology.contains(member) {
                let value = self
                    .gossip
                    .get(member, reserved_keys::SUBSCRIPTIONS)
                    .map(GossipKeyValue::value);
                changed.push((member, value));
            } else {
                gone.push(member.clone());
            }
        }
        broker.sync_members(changed, &gone, now);
    }

    fn take_pub_sub(&mut self, outputs: Vec<PubSubOutput>, now: u64) {
        for output in outputs {
            match output {
                PubSubOutput::Send { to, message } => {
                    let address = self
                        .gossip
                        .topology()
                        .member(&to)
                        .map(|m| alloc::string::String::from(m.address()));
                    match address {
                        Some(address) => self.outputs.push(NodeOutput::Send {
                            to: address,
                            frame: Frame::PubSub(message),
                        }),
                        None => {
                            if let Some(broker) = self.pub_sub.as_mut() {
                                broker.send_failed(&to, message, now);
                            }
                        }
                    }
                }
                PubSubOutput::Deliver(delivery) => self.outputs.push(NodeOutput::Deliver(delivery)),
                PubSubOutput::Event(event) => {
                    self.outputs
                        .push(NodeOutput::Event(ClusterEvent::PubSub(event)));
                }
            }
        }
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("gossip", &self.gossip)
            .field("pub_sub", &self.pub_sub)
            .field("outputs", &self.outputs.len())
            .finish_non_exhaustive()
    }
}
