use chorus_core::gossip::GossipConfig;
use chorus_core::topology::MemberId;

use crate::transport::TransportConfig;

/// Where a node listens, how it finds the cluster, and who it is.
#[derive(Debug, Clone)]
pub struct LocalClusterProviderConfig {
    /// The address to bind (`127.0.0.1:0` lets the system choose a port).
    pub bind: String,
    /// Addresses of nodes to join through.
    pub seeds: Vec<String>,
    /// The cluster's name; nodes of another cluster are refused at the handshake.
    pub cluster_name: String,
    /// This node's member id.
    pub member: MemberId,
    /// The kinds this node hosts.
    pub kinds: Vec<String>,
    /// Gossip settings.
    pub gossip: GossipConfig,
    /// Transport settings.
    pub transport: TransportConfig,
    /// Seed of the gossip node's peer choice.
    pub rng_seed: u64,
}
