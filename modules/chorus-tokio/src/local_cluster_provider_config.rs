use chorus_core::gossip::GossipConfig;
use chorus_core::topology::MemberId;

use crate::transport::TransportConfig;

/// Where a node listens, how it finds the cluster, and who it is.
#[derive(Debug, Clone)]
pub(crate) struct LocalClusterProviderConfig {
    /// The address to bind (`127.0.0.1:0` lets the system choose a port).
    pub(crate) bind: String,
    /// The address peers dial to reach this node: a host (`10.0.0.5`, `db1.example`; the
    /// bound port is added) or `HOST:PORT` (`None`: the bound address). Needed when
    /// `bind` is a wildcard such as `0.0.0.0:7000`, which peers cannot dial: the provider
    /// refuses to start with a wildcard bind and no advertised address.
    pub(crate) advertise: Option<String>,
    /// Addresses of nodes to join through.
    pub(crate) seeds: Vec<String>,
    /// The cluster's name; nodes of another cluster are refused at the handshake.
    pub(crate) cluster_name: String,
    /// This node's member id.
    pub(crate) member: MemberId,
    /// The kinds this node hosts.
    pub(crate) kinds: Vec<String>,
    /// Gossip settings.
    pub(crate) gossip: GossipConfig,
    /// Transport settings.
    pub(crate) transport: TransportConfig,
    /// Seed of the gossip node's peer choice.
    pub(crate) rng_seed: u64,
}
