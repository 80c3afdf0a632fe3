use std::collections::BTreeMap;

use chorus_core::cluster::ClusterMetrics;
use chorus_core::gossip::GossipMetrics;
use chorus_core::pubsub::TopicMetrics;

use crate::transport::TransportMetrics;

/// Every counter and gauge of one node, read at once with
/// [`Cluster::metrics`](crate::Cluster::metrics): membership, gossip, transport, the
/// node's queues and pub/sub per topic.
///
/// The transport's counters are read live; the gossip, queue and pub/sub figures are
/// those the node's loop published at its last gossip round (or its last change of
/// subscriptions), so they lag by at most one gossip interval. The admin endpoint
/// exports the same figures in the Prometheus text format (`docs/operations.md`).
///
/// ```no_run
/// # fn show(node: &chorus_tokio::Cluster) {
/// let metrics = node.metrics();
/// println!(
///     "{} members, {} bytes out, {} delivered on orders",
///     metrics.members,
///     metrics.transport.bytes_out,
///     metrics.topic("orders").delivered
/// );
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeMetrics {
    /// Members of the applied topology, this node included (the length of
    /// [`Cluster::members`](crate::Cluster::members)).
    pub members: usize,
    /// Members blocked so far; a blocked member stays blocked.
    pub blocked: usize,
    /// Topology counters: members joined and left, updates applied, ignored and refused.
    pub cluster: ClusterMetrics,
    /// Gossip counters: rounds, requests, pushes, timeouts, entries, blocks, rejoins.
    pub gossip: GossipMetrics,
    /// Transport counters: bytes and frames in and out, connects, refusals, decode errors,
    /// full queues.
    pub transport: TransportMetrics,
    /// Pub/sub delivery batches sent and waiting for their acknowledgement (a gauge).
    pub pending_batches: usize,
    /// Received frames waiting for the node's loop (a gauge).
    pub inbound_queue: usize,
    /// Commands of the application waiting for the node's loop (a gauge).
    pub command_queue: usize,
    /// Pub/sub counters of every topic with local activity (published here, or delivered
    /// to a subscriber here), sorted by topic: published, rejected, delivered, failed,
    /// received, completed, requeued, dropped at full subscriber buffers, queued in
    /// groups, and the delivery latency histogram.
    pub topics: BTreeMap<String, TopicMetrics>,
}

impl NodeMetrics {
    /// The counters of `topic` (all zero for a topic without local activity).
    pub fn topic(&self, topic: &str) -> TopicMetrics {
        self.topics.get(topic).copied().unwrap_or_default()
    }
}
