use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::pubsub::TOPIC_KIND;
use crate::topology::MemberId;

/// Configuration of one cluster node's core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The cluster's name; nodes of another cluster are refused at the handshake.
    pub cluster_name: String,
    /// This node's member id.
    pub member_id: MemberId,
    /// Whether counters are kept and readable (default: true).
    pub metrics_enabled: bool,
    /// Kinds registered when the core is created (default: the pub/sub topic kind).
    pub kinds: Vec<String>,
}

impl ClusterConfig {
    /// Defaults for a node `member_id` of cluster `cluster_name`.
    pub fn new(cluster_name: impl Into<String>, member_id: MemberId) -> Self {
        Self {
            cluster_name: cluster_name.into(),
            member_id,
            metrics_enabled: true,
            kinds: vec![String::from(TOPIC_KIND)],
        }
    }

    /// The same configuration with metrics turned on or off.
    #[must_use]
    pub fn with_metrics(mut self, enabled: bool) -> Self {
        self.metrics_enabled = enabled;
        self
    }
}
