//! Members and the cluster topology: who is in the cluster, who joined, left or is blocked.

mod cluster_topology;
mod member;
mod member_id;
#[cfg(test)]
mod tests;
mod topology_error;

pub use cluster_topology::ClusterTopology;
pub use member::Member;
pub use member_id::MemberId;
pub use topology_error::TopologyError;
