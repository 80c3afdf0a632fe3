use core::fmt;

/// Where a cluster node is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterState {
    /// Not started, or shut down.
    Stopped,
    /// Starting pub/sub, then the gossiper, then the provider.
    Starting,
    /// Started: the node is part of the cluster.
    Running,
    /// Stopping the provider, then the gossiper, then pub/sub.
    ShuttingDown,
}

impl fmt::Display for ClusterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stopped => "stopped",
            Self::Starting => "starting",
            Self::Running => "running",
            Self::ShuttingDown => "shutting down",
        })
    }
}
