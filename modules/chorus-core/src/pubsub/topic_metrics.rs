/// Counters of one topic on one node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
}
