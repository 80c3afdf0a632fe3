//! What the simulator records from the nodes' events.

use std::collections::HashMap;

use chorus_core::cluster::ClusterEvent;
use chorus_core::gossip::reserved_keys;
use chorus_core::pubsub::{PubSubEvent, SubscriberId};
use chorus_core::topology::MemberId;

/// A message handed to a subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// When (virtual ms).
    pub at: u64,
    /// The node of the subscriber.
    pub node: usize,
    /// The subscriber.
    pub subscriber: SubscriberId,
    /// The topic.
    pub topic: String,
    /// The publishing node.
    pub publisher: MemberId,
    /// The message id (per publisher).
    pub message_id: u64,
    /// The group, for a load-balanced message.
    pub group: Option<String>,
}

/// A group message a local instance finished, as its node told the publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// When (virtual ms).
    pub at: u64,
    /// The node of the instance.
    pub node: usize,
    /// The instance.
    pub subscriber: SubscriberId,
    /// The topic.
    pub topic: String,
    /// The group.
    pub group: String,
    /// The publishing node.
    pub publisher: MemberId,
    /// The message id (per publisher).
    pub message_id: u64,
}

/// A live member removed from a live node's view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FalsePositive {
    /// The node index that removed it.
    pub observer: usize,
    /// The member it removed.
    pub member: MemberId,
    /// When (virtual ms).
    pub at: u64,
}

/// Events the simulator keeps for the scenarios.
#[derive(Debug, Default)]
pub struct Observations {
    /// For each user key `(owner, key)`: when each node first accepted a value of it.
    key_arrivals: HashMap<(MemberId, String), Vec<Option<u64>>>,
    /// For each member: when each node first removed it from its view.
    removed: HashMap<MemberId, Vec<Option<u64>>>,
    false_positives: Vec<FalsePositive>,
    rejoins: usize,
    topology_updates: u64,
    nodes: usize,
    deliveries: Vec<Delivery>,
    completions: Vec<Completion>,
    pubsub_events: Vec<(usize, PubSubEvent)>,
}

impl Observations {
    pub(super) fn add_node(&mut self) {
        self.nodes += 1;
        for seen in self
            .key_arrivals
            .values_mut()
            .chain(self.removed.values_mut())
        {
            seen.push(None);
        }
    }

    fn mark(
        map: &mut HashMap<(MemberId, String), Vec<Option<u64>>>,
        key: (MemberId, String),
        node: usize,
        at: u64,
        nodes: usize,
    ) {
        let seen = map.entry(key).or_insert_with(|| vec![None; nodes]);
        if let Some(slot) = seen.get_mut(node) {
            slot.get_or_insert(at);
        }
    }

    /// Records `event` published by node `node` at `at`; `is_live` tells whether a member
    /// id is a running node's current identity.
    pub(super) fn record(
        &mut self,
        node: usize,
        at: u64,
        event: &ClusterEvent,
        is_live: impl Fn(&MemberId) -> bool,
    ) {
        match event {
            ClusterEvent::GossipUpdated { member, key, .. } if !reserved_keys::is_reserved(key) => {
                Self::mark(
                    &mut self.key_arrivals,
                    (member.clone(), key.clone()),
                    node,
                    at,
                    self.nodes,
                );
            }
            ClusterEvent::TopologyUpdated(topology) => {
                self.topology_updates += 1;
                for gone in topology.left() {
                    let seen = self
                        .removed
                        .entry(gone.id().clone())
                        .or_insert_with(|| vec![None; self.nodes]);
                    if let Some(slot) = seen.get_mut(node) {
                        slot.get_or_insert(at);
                    }
                    if is_live(gone.id()) {
                        self.false_positives.push(FalsePositive {
                            observer: node,
                            member: gone.id().clone(),
                            at,
                        });
                    }
                }
            }
            ClusterEvent::Rejoined { .. } => self.rejoins += 1,
            _ => {}
        }
    }

    /// When each of `nodes` first accepted `key` of `owner`; `None` if one has not.
    pub fn key_arrivals(&self, owner: &MemberId, key: &str, nodes: &[usize]) -> Option<Vec<u64>> {
        let seen = self.key_arrivals.get(&(owner.clone(), key.to_string()))?;
        nodes
            .iter()
            .map(|i| seen.get(*i).copied().flatten())
            .collect()
    }

    /// All arrival times of `key` of `owner`, sorted (for plots).
    pub fn key_arrival_times(&self, owner: &MemberId, key: &str) -> Vec<u64> {
        let mut times: Vec<u64> = self
            .key_arrivals
            .get(&(owner.clone(), key.to_string()))
            .map(|seen| seen.iter().flatten().copied().collect())
            .unwrap_or_default();
        times.sort_unstable();
        times
    }

    /// When each of `nodes` first removed `member` from its view; `None` if one has not.
    pub fn removals(&self, member: &MemberId, nodes: &[usize]) -> Option<Vec<u64>> {
        let seen = self.removed.get(member)?;
        nodes
            .iter()
            .map(|i| seen.get(*i).copied().flatten())
            .collect()
    }

    /// Live members removed by live nodes.
    pub fn false_positives(&self) -> &[FalsePositive] {
        &self.false_positives
    }

    pub(super) fn record_delivery(&mut self, delivery: Delivery) {
        self.deliveries.push(delivery);
    }

    pub(super) fn record_completion(&mut self, completion: Completion) {
        self.completions.push(completion);
    }

    pub(super) fn record_pubsub(&mut self, node: usize, event: PubSubEvent) {
        self.pubsub_events.push((node, event));
    }

    /// Every group message a local instance completed, in order.
    pub fn completions(&self) -> &[Completion] {
        &self.completions
    }

    /// Every message handed to a subscriber, in order.
    pub fn deliveries(&self) -> &[Delivery] {
        &self.deliveries
    }

    /// Pub/sub events of every node.
    pub fn pubsub_events(&self) -> &[(usize, PubSubEvent)] {
        &self.pubsub_events
    }

    /// Rejoins under a new incarnation.
    pub fn rejoins(&self) -> usize {
        self.rejoins
    }

    /// `TopologyUpdated` events published by all nodes.
    pub fn topology_updates(&self) -> u64 {
        self.topology_updates
    }
}
