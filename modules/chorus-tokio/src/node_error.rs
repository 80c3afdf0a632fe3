use std::fmt;

use chorus_core::cluster::ClusterError;
use chorus_core::gossip::GossiperError;

/// Why a call on a running [`Cluster`](crate::Cluster) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeError {
    /// The gossip loop refused or does not run.
    Gossip(GossiperError),
    /// A lifecycle step failed.
    Cluster(ClusterError),
    /// The graceful leave was not acknowledged by every peer in time; the node shut down
    /// anyway and peers will notice by heartbeat expiration.
    LeaveTimedOut {
        /// How long it waited, in milliseconds.
        waited_ms: u64,
    },
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gossip(e) => write!(f, "gossip: {e}"),
            Self::Cluster(e) => write!(f, "cluster: {e}"),
            Self::LeaveTimedOut { waited_ms } => write!(
                f,
                "leave not acknowledged by every peer within {waited_ms} ms; peers will detect the departure by timeout"
            ),
        }
    }
}

impl std::error::Error for NodeError {}

impl From<GossiperError> for NodeError {
    fn from(e: GossiperError) -> Self {
        Self::Gossip(e)
    }
}

impl From<ClusterError> for NodeError {
    fn from(e: ClusterError) -> Self {
        Self::Cluster(e)
    }
}
