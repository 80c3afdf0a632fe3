mod observations;
mod scheduled;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hasher;

use chorus_core::cluster::ClusterEvent;
use chorus_core::gossip::GossipNode;
use chorus_core::node::{Node, NodeOutput};
use chorus_core::pubsub::{PubSubBroker, PublishAck, SubscriberId};
use chorus_core::topology::{Member, MemberId};
use chorus_core::wire::{DEFAULT_MAX_FRAME_BYTES, Frame};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::{NodeStats, SimConfig, SimError};
pub use observations::{Completion, Delivery, FalsePositive, Observations};
use scheduled::{Event, Scheduled};

/// One simulated node: the real node state machine — the same `Node` the Tokio driver
/// runs — plus what the network knows of it.
struct SimNode {
    node: Node,
    address: String,
    alive: bool,
    /// Bumped at every crash and restart so that ticks scheduled before are dropped.
    generation: u64,
    /// When a poll of the gossip node is scheduled, if one is.
    poll_at: Option<u64>,
    stats: NodeStats,
}

/// A deterministic simulation of a chorus cluster.
///
/// Time is virtual (milliseconds); events — node rounds, message deliveries — run in time
/// order, ties broken by the order they were scheduled. All randomness comes from one
/// generator seeded by [`SimConfig::seed`], so a seed replays a run exactly;
/// [`trace_hash`](Self::trace_hash) summarises everything that happened.
pub struct Simulator {
    config: SimConfig,
    nodes: Vec<SimNode>,
    by_address: HashMap<String, usize>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
    now: u64,
    rng: SmallRng,
    trace: fnv::FnvHasher,
    /// Partition group of each node; messages only flow within a group.
    groups: Vec<usize>,
    observations: Observations,
    events_processed: u64,
    progress: Option<Box<dyn FnMut(u64, u64)>>,
}

/// The address of node `index` on the virtual network.
pub fn address_of(index: usize) -> String {
    format!(
        "10.{}.{}.{}:7000",
        index / 65_536,
        (index / 256) % 256,
        index % 256
    )
}

impl Simulator {
    /// Builds the nodes of `config`; they start within `start_window_ms`.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        config.validate()?;
        let mut sim = Self {
            nodes: Vec::with_capacity(config.nodes),
            by_address: HashMap::with_capacity(config.nodes),
            queue: BinaryHeap::new(),
            next_seq: 0,
            now: 0,
            rng: SmallRng::seed_from_u64(config.seed),
            trace: fnv::FnvHasher::default(),
            groups: Vec::with_capacity(config.nodes),
            observations: Observations::default(),
            events_processed: 0,
            progress: None,
            config,
        };
        for _ in 0..sim.config.nodes {
            let start = if sim.config.start_window_ms == 0 {
                0
            } else {
                sim.rng.random_range(0..sim.config.start_window_ms)
            };
            sim.spawn(start)?;
        }
        Ok(sim)
    }

    fn seeds(&self) -> Vec<String> {
        (0..self.config.seeds).map(address_of).collect()
    }

    /// Creates a node that starts (first round) at `start`.
    fn spawn(&mut self, start: u64) -> Result<usize, SimError> {
        let index = self.nodes.len();
        let address = address_of(index);
        let member = Member::new(MemberId::new(&format!("n{index}"), 1), address.clone());
        let node_seed = self.rng.random();
        let node = self.new_node(member, node_seed, start)?;
        self.by_address.insert(address.clone(), index);
        self.nodes.push(SimNode {
            node,
            address,
            alive: true,
            generation: 0,
            poll_at: None,
            stats: NodeStats::default(),
        });
        self.groups.push(0);
        self.observations.add_node();
        let phase = self
            .rng
            .random_range(0..self.config.gossip.gossip_interval_ms);
        self.schedule(
            start + phase,
            Event::Tick {
                node: index,
                generation: 0,
            },
        );
        Ok(index)
    }

    /// The node of `member`, with pub/sub when the simulation runs it.
    fn new_node(&self, member: Member, rng_seed: u64, now: u64) -> Result<Node, SimError> {
        let gossip = GossipNode::new(member, self.seeds(), self.config.gossip, rng_seed, now)
            .map_err(SimError::Gossip)?;
        let node = Node::new(gossip);
        match self.config.pubsub.clone() {
            Some(config) => node
                .with_pub_sub(config, DEFAULT_MAX_FRAME_BYTES)
                .map_err(|e| SimError::InvalidConfig {
                    reason: e.to_string(),
                }),
            None => Ok(node),
        }
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.next_seq,
            event,
        }));
        self.next_seq += 1;
    }

    /// Virtual time now, ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// How many nodes were ever created (crashed ones included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the simulation has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `index`'s gossip state machine.
    pub fn node(&self, index: usize) -> Option<&GossipNode> {
        self.nodes.get(index).map(|n| n.node.gossip())
    }

    /// Node `index`'s whole state machine (gossip and pub/sub).
    pub fn full_node(&self, index: usize) -> Option<&Node> {
        self.nodes.get(index).map(|n| &n.node)
    }

    /// Whether node `index` runs (not crashed, not left).
    pub fn is_alive(&self, index: usize) -> bool {
        self.nodes.get(index).is_some_and(|n| n.alive)
    }

    /// Indexes of the running nodes.
    pub fn live(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.alive)
            .map(|(i, _)| i)
    }

    /// Member ids of the running nodes.
    pub fn live_ids(&self) -> Vec<MemberId> {
        self.nodes
            .iter()
            .filter(|n| n.alive)
            .map(|n| n.node.member_id().clone())
            .collect()
    }

    /// Traffic of node `index`.
    pub fn stats(&self, index: usize) -> NodeStats {
        self.nodes.get(index).map(|n| n.stats).unwrap_or_default()
    }

    /// What the simulator recorded from the nodes' events.
    pub fn observations(&self) -> &Observations {
        &self.observations
    }

    /// A hash of every event processed so far: equal for two runs of the same seed.
    pub fn trace_hash(&self) -> u64 {
        self.trace.finish()
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Calls `report(virtual ms, events processed)` every 50,000 events (progress bars).
    pub fn set_progress(&mut self, report: impl FnMut(u64, u64) + 'static) {
        self.progress = Some(Box::new(report));
    }

    /// Runs every event up to and including virtual time `until`.
    pub fn run_until(&mut self, until: u64) {
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.at > until {
                break;
            }
            let Some(Reverse(next)) = self.queue.pop() else {
                break;
            };
            self.now = next.at;
            self.process(next.event);
            if self.events_processed % 50_000 == 0
                && let Some(report) = self.progress.as_mut()
            {
                report(self.now, self.events_processed);
            }
        }
        self.now = self.now.max(until);
    }

    /// Runs until `done` holds (checked every `step_ms`) or `limit_ms` of virtual time
    /// passed; returns the virtual time it first held at.
    pub fn run_until_true(
        &mut self,
        limit_ms: u64,
        step_ms: u64,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Option<u64> {
        let end = self.now + limit_ms;
        let step = step_ms.max(1);
        loop {
            if done(self) {
                return Some(self.now);
            }
            if self.now >= end {
                return None;
            }
            let next = (self.now + step).min(end);
            self.run_until(next);
        }
    }

    fn process(&mut self, event: Event) {
        self.events_processed += 1;
        self.trace.write_u64(self.now);
        match event {
            Event::Tick { node, generation } => {
                let Some(n) = self.nodes.get_mut(node) else {
                    return;
                };
                if !n.alive || n.generation != generation {
                    return;
                }
                self.trace.write_u8(0);
                self.trace.write_u64(node as u64);
                n.node.tick(self.now);
                let next = self.now + self.config.gossip.gossip_interval_ms;
                self.schedule(next, Event::Tick { node, generation });
                self.drain(node);
            }
            Event::Poll { node, generation } => {
                let Some(n) = self.nodes.get_mut(node) else {
                    return;
                };
                if !n.alive || n.generation != generation || n.poll_at != Some(self.now) {
                    return;
                }
                n.poll_at = None;
                self.trace.write_u8(9);
                self.trace.write_u64(node as u64);
                n.node.poll(self.now);
                self.drain(node);
            }
            Event::Complete {
                node,
                generation,
                publisher,
                topic,
                group,
                subscriber,
                message_id,
            } => {
                let now = self.now;
                let Some(n) = self.nodes.get_mut(node) else {
                    return;
                };
                if !n.alive || n.generation != generation {
                    return;
                }
                self.trace.write_u8(8);
                // The subscriber may have left meanwhile; then there is nothing to do.
                if n.node
                    .complete(&publisher, &topic, &group, &subscriber, message_id, now)
                    .is_ok()
                {
                    self.observations
                        .record_completion(observations::Completion {
                            at: now,
                            node,
                            subscriber,
                            topic,
                            group,
                            publisher,
                            message_id,
                        });
                }
                self.drain(node);
            }
            Event::Deliver { from, to, bytes } => {
                self.trace.write_u8(1);
                self.trace.write_u64(from as u64);
                self.trace.write_u64(to as u64);
                self.trace.write(&bytes);
                let Some(target) = self.nodes.get_mut(to) else {
                    return;
                };
                if !target.alive {
                    return;
                }
                target.stats.messages_received += 1;
                target.stats.bytes_received += bytes.len() as u64;
                // Every message crosses the real wire format.
                let Ok(frame) = Frame::decode(&bytes, DEFAULT_MAX_FRAME_BYTES) else {
                    return;
                };
                // The member the connection belongs to, as a handshake would tell.
                let sender = self.nodes.get(from).map(|n| n.node.member_id().clone());
                let from_address = address_of(from);
                if let Some(target) = self.nodes.get_mut(to) {
                    target
                        .node
                        .handle_frame(&from_address, sender.as_ref(), frame, self.now);
                }
                self.drain(to);
            }
        }
    }

    /// Sends what node `index` asked to send, records what it published and delivered,
    /// and schedules its next poll and the completions of its group deliveries.
    fn drain(&mut self, index: usize) {
        let Some(node) = self.nodes.get_mut(index) else {
            return;
        };
        // Wake the node when its deferred work falls due before its next round.
        let wake = node.node.next_wake_at();
        let generation = node.generation;
        let schedule_poll = wake < node.node.next_round_at()
            && wake > self.now
            && node.poll_at.is_none_or(|at| at > wake);
        if schedule_poll {
            node.poll_at = Some(wake);
        }
        let outputs = node.node.drain_outputs();
        if schedule_poll {
            self.schedule(
                wake,
                Event::Poll {
                    node: index,
                    generation,
                },
            );
        }
        for output in outputs {
            match output {
                NodeOutput::Send { to, frame } => self.send(index, &to, &frame),
                NodeOutput::Event(ClusterEvent::PubSub(event)) => {
                    self.observations.record_pubsub(index, event);
                }
                NodeOutput::Event(event) => self.observe(index, &event),
                NodeOutput::Deliver(delivery) => {
                    self.observations.record_delivery(observations::Delivery {
                        at: self.now,
                        node: index,
                        subscriber: delivery.subscriber.clone(),
                        topic: delivery.topic.clone(),
                        publisher: delivery.publisher.clone(),
                        message_id: delivery.message_id,
                        group: delivery.group.clone(),
                    });
                    if let Some(group) = delivery.group {
                        let at = self.now + self.config.processing_ms;
                        self.schedule(
                            at,
                            Event::Complete {
                                node: index,
                                generation,
                                publisher: delivery.publisher,
                                topic: delivery.topic,
                                group,
                                subscriber: delivery.subscriber,
                                message_id: delivery.message_id,
                            },
                        );
                    }
                }
                // Outputs a later core may add: nothing the simulator measures yet.
                _ => {}
            }
        }
    }

    fn send(&mut self, from: usize, to: &str, frame: &Frame) {
        let bytes = frame.encode();
        if let Some(node) = self.nodes.get_mut(from) {
            node.stats.messages_sent += 1;
            node.stats.bytes_sent += bytes.len() as u64;
        }
        let Some(&target) = self.by_address.get(to) else {
            return;
        };
        let lost = self.config.loss > 0.0 && self.rng.random_bool(self.config.loss);
        let cut = self.groups.get(from) != self.groups.get(target);
        if lost || cut {
            return;
        }
        let delay = self.config.latency.sample(&mut self.rng);
        self.schedule(
            self.now + delay,
            Event::Deliver {
                from,
                to: target,
                bytes,
            },
        );
    }

    fn observe(&mut self, index: usize, event: &ClusterEvent) {
        let nodes = &self.nodes;
        // Node names are `n<index>`, so a member id leads straight to its node.
        let is_live = |id: &MemberId| {
            id.name()
                .strip_prefix('n')
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| nodes.get(i))
                .is_some_and(|n| n.alive && !n.node.has_left() && n.node.member_id() == id)
        };
        self.observations.record(index, self.now, event, is_live);
    }

    // ---------- scripted actions ----------

    fn live_node(&mut self, index: usize) -> Result<&mut SimNode, SimError> {
        self.nodes
            .get_mut(index)
            .filter(|n| n.alive)
            .ok_or(SimError::NoSuchNode(index))
    }

    /// Node `index` stops silently (a crash): it sends and receives nothing more.
    pub fn crash(&mut self, index: usize) -> Result<(), SimError> {
        let node = self.live_node(index)?;
        node.alive = false;
        node.generation += 1;
        self.trace.write_u8(2);
        self.trace.write_u64(index as u64);
        Ok(())
    }

    /// Node `index` leaves gracefully: it writes its left key and tells every peer; it
    /// stops once they acknowledged (or timed out).
    pub fn leave(&mut self, index: usize) -> Result<(), SimError> {
        let now = self.now;
        let node = self.live_node(index)?;
        // A node that already left cannot leave twice; nothing to do then.
        let _ = node.node.leave(now);
        self.trace.write_u8(3);
        self.trace.write_u64(index as u64);
        self.drain(index);
        Ok(())
    }

    /// Restarts node `index` (crashed or not) as a new incarnation at the same address.
    pub fn restart(&mut self, index: usize) -> Result<(), SimError> {
        let node_seed = self.rng.random();
        let now = self.now;
        let node = self
            .nodes
            .get_mut(index)
            .ok_or(SimError::NoSuchNode(index))?;
        let old = node.node.member_id().clone();
        let member = Member::new(
            MemberId::new(old.name(), old.incarnation() + 1),
            node.address.clone(),
        );
        let fresh = self.new_node(member, node_seed, now)?;
        let node = self
            .nodes
            .get_mut(index)
            .ok_or(SimError::NoSuchNode(index))?;
        node.node = fresh;
        node.alive = true;
        node.generation += 1;
        let generation = node.generation;
        self.trace.write_u8(4);
        self.trace.write_u64(index as u64);
        self.schedule(
            now,
            Event::Tick {
                node: index,
                generation,
            },
        );
        Ok(())
    }

    /// Adds a node that joins through the seeds now; returns its index.
    pub fn add_node(&mut self) -> Result<usize, SimError> {
        let now = self.now;
        self.spawn(now)
    }

    /// Writes `key` on node `index` (pushed to peers at once).
    pub fn set_key(&mut self, index: usize, key: &str, value: &[u8]) -> Result<(), SimError> {
        let now = self.now;
        let node = self.live_node(index)?;
        node.node
            .set(key, value, now)
            .map_err(|e| SimError::InvalidConfig {
                reason: e.to_string(),
            })?;
        self.trace.write_u8(5);
        self.drain(index);
        Ok(())
    }

    /// Subscribes `subscriber` on node `index` to `topic` (in `group` with `limit`
    /// messages in flight, or as a broadcast subscriber); the node gossips it at once.
    /// Scenarios name their subscribers to tell them apart in what they observe.
    pub fn subscribe(
        &mut self,
        index: usize,
        topic: &str,
        subscriber: &str,
        group: Option<&str>,
        limit: u32,
    ) -> Result<(), SimError> {
        let now = self.now;
        let node = self.live_node(index)?;
        node.node
            .subscribe_as(topic, &SubscriberId::new(subscriber), group, limit, now)
            .map_err(|e| SimError::InvalidConfig {
                reason: e.to_string(),
            })?;
        self.trace.write_u8(9);
        self.drain(index);
        Ok(())
    }

    /// Unsubscribes `subscriber` of node `index` from `topic`.
    pub fn unsubscribe(
        &mut self,
        index: usize,
        topic: &str,
        subscriber: &SubscriberId,
    ) -> Result<(), SimError> {
        let now = self.now;
        let node = self.live_node(index)?;
        node.node
            .unsubscribe(topic, subscriber, now)
            .map_err(|e| SimError::InvalidConfig {
                reason: e.to_string(),
            })?;
        self.trace.write_u8(11);
        self.drain(index);
        Ok(())
    }

    /// Publishes `payloads` on `topic` from node `index`.
    pub fn publish(
        &mut self,
        index: usize,
        topic: &str,
        payloads: Vec<Vec<u8>>,
    ) -> Result<PublishAck, SimError> {
        let now = self.now;
        let node = self.live_node(index)?;
        let ack = node.node.publish(topic, payloads, now);
        self.trace.write_u8(10);
        self.drain(index);
        Ok(ack)
    }

    /// Node `index`'s broker, when the simulation runs pub/sub.
    pub fn broker(&self, index: usize) -> Option<&PubSubBroker> {
        self.nodes.get(index).and_then(|n| n.node.pub_sub())
    }

    /// Splits the network: `group(index)` names each node's side; messages between sides
    /// are lost until [`heal`](Self::heal).
    pub fn partition(&mut self, group: impl Fn(usize) -> usize) {
        for (index, slot) in self.groups.iter_mut().enumerate() {
            *slot = group(index);
        }
        self.trace.write_u8(6);
    }

    /// Joins every side of a partition again.
    pub fn heal(&mut self) {
        self.groups.iter_mut().for_each(|g| *g = 0);
        self.trace.write_u8(7);
    }

    // ---------- questions ----------

    /// Whether every live node sees exactly the live nodes as members (compared through
    /// the topology's content hash: one hash per node, not one lookup per member).
    pub fn all_see_all(&self) -> bool {
        let live = self.live_ids();
        let expected = chorus_core::topology::ClusterTopology::hash_of(live.iter());
        self.live().all(|i| {
            self.node(i).is_some_and(|n| {
                n.topology().hash() == expected && n.topology().members().len() == live.len()
            })
        })
    }

    /// Whether every live node sees every live node and agrees, by consensus, on the
    /// same topology hash.
    pub fn topology_agreed(&self) -> bool {
        if !self.all_see_all() {
            return false;
        }
        let mut hashes = self
            .live()
            .filter_map(|i| self.node(i)?.topology_consensus());
        let Some(first) = hashes.next() else {
            return false;
        };
        let agreeing = 1 + hashes.filter(|h| *h == first).count();
        agreeing == self.live().count()
    }

    /// Whether every live node holds `key` of `owner` with `value`.
    pub fn all_have_key(&self, owner: &MemberId, key: &str, value: &[u8]) -> bool {
        self.live().all(|i| {
            self.node(i)
                .and_then(|n| n.get(owner, key))
                .is_some_and(|v| v.value() == value)
        })
    }

    /// Whether every live node blocked `member`.
    pub fn all_blocked(&self, member: &MemberId) -> bool {
        self.live()
            .all(|i| self.node(i).is_some_and(|n| n.is_blocked(member)))
    }

    /// The member id of node `index` now.
    pub fn id_of(&self, index: usize) -> Option<MemberId> {
        self.node(index).map(|n| n.member_id().clone())
    }

    /// Total traffic of the live nodes.
    pub fn live_traffic(&self) -> NodeStats {
        self.nodes
            .iter()
            .filter(|n| n.alive)
            .fold(NodeStats::default(), |mut total, n| {
                total.messages_sent += n.stats.messages_sent;
                total.bytes_sent += n.stats.bytes_sent;
                total.messages_received += n.stats.messages_received;
                total.bytes_received += n.stats.bytes_received;
                total
            })
    }

    /// The number of entries every node holds, summed: the size of the replicated state.
    pub fn total_entries(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.alive)
            .map(|n| {
                n.node
                    .gossip()
                    .store()
                    .state()
                    .members()
                    .map(|(_, s)| s.entries().count())
                    .sum::<usize>()
            })
            .sum()
    }
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("now", &self.now)
            .field("nodes", &self.nodes.len())
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}
