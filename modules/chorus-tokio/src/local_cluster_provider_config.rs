use chorus_core::gossip::GossipConfig;
use chorus_core::topology::MemberId;

use crate::transport::TransportConfig;

/// Where a node listens, how it finds the cluster, and who it is.
#[derive(Debug, Clone)]
pub struct LocalClusterProviderConfig {
    /// The address to bind (`127.0.0.1:0` lets the system choose a port).
    pub bind: String,
    /// The address peers dial to reach this node: a host (`10.0.0.5`, `db1.example`; the
    /// bound port is added) or `HOST:PORT` (`None`: the bound address). Needed when
    /// `bind` is a wildcard such as `0.0.0.0:7000`, which peers cannot dial: the provider
    /// refuses to start with a wildcard bind and no advertised address.
    pub advertise: Option<String>,
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
