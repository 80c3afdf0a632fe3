use super::LatencyHistogram;

/// Counters of one topic on one node.
///
/// The node keeps them only for topics with local activity — published here, or
/// delivered to a subscriber here — so a peer cannot make it count topics of its choosing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopicMetrics {
    /// Messages accepted for publishing here.
    pub published: u64,
    /// Publishes rejected here.
    pub rejected: u64,
    /// Deliveries acknowledged as delivered.
    pub delivered: u64,
    /// Deliveries reported unreachable or timed out.
    pub failed: u64,
    /// Messages handed to subscribers on this node.
    pub received: u64,
    /// Group messages completed.
    pub completed: u64,
    /// Group messages put back in their group's queue (instance gone, delivery timeout).
    pub requeued: u64,
    /// Broadcast deliveries dropped at a local subscriber whose buffer was full. The
    /// broker never drops one; the driver that owns the subscribers' buffers counts them
    /// (`chorus-tokio`'s `Cluster::metrics`), and the broker's own counters say 0.
    pub dropped: u64,
    /// Group messages waiting in this node's group queues for an idle instance, now (a
    /// gauge, not a counter).
    pub queued: u64,
    /// How long the deliveries counted in `delivered` took to be acknowledged: one
    /// observation per delivery, so its count equals `delivered`.
    pub latency: LatencyHistogram,
}
