use crate::topology::{ClusterTopology, MemberId, TopologyError};

use super::ClusterError;

/// Everything that happens to a cluster node, published on its `EventStream`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}
