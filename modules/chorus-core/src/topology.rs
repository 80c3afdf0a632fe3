//! Members and the cluster topology: who is in the cluster, who joined, left or is blocked.

mod cluster_topology;
mod member;
mod member_id;
#[cfg(test)]
mod tests;
mod topology_decode_error;
mod topology_error;

pub use cluster_topology::ClusterTopology;
#[cfg(test)]
use cluster_topology::TopologyWire;
pub use member::Member;
pub use member_id::MemberId;
pub use topology_decode_error::TopologyDecodeError;
pub use topology_error::TopologyError;
