use core::fmt;

/// A snapshot of the cluster counters of one node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClusterMetrics {
    /// Members in the current topology.
    pub members: usize,
    /// Members reported as joined, summed over every applied update.
    pub joined_total: u64,
    /// Members reported as left, summed over every applied update.
    pub left_total: u64,
    /// Updates applied.
    pub updates_applied: u64,
    /// Updates ignored because their hash equalled the last applied one.
    pub updates_ignored: u64,
    /// Updates refused by validation.
    pub updates_rejected: u64,
    /// Members blocked so far.
    pub blocked: usize,
}

impl fmt::Display for ClusterMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "members={} joined_total={} left_total={} applied={} ignored={} rejected={} blocked={}",
            self.members,
            self.joined_total,
            self.left_total,
            self.updates_applied,
            self.updates_ignored,
            self.updates_rejected,
            self.blocked
        )
    }
}
