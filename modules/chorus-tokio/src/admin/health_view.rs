//! `/health`: whether the node runs and is in its own topology (a readiness probe).

use chorus_core::topology::{ClusterTopology, MemberId};
use serde::Serialize;

/// The body of `/health`; the status code is 200 when [`ready`](Self::ready), else 503.
#[derive(Debug, Serialize)]
pub(crate) struct HealthView {
    /// `ok` or `unavailable`.
    pub(crate) status: &'static str,
    /// Neither shut down (or shutting down: leaving) nor aborted.
    pub(crate) running: bool,
    /// Whether the node's current member is in the topology it applied.
    pub(crate) in_topology: bool,
    /// The node's current member (`name#incarnation`), once it has one.
    pub(crate) member: Option<String>,
}

impl HealthView {
    pub(crate) fn new(
        running: bool,
        member: Option<&MemberId>,
        topology: &ClusterTopology,
    ) -> Self {
        let in_topology = member.is_some_and(|m| topology.contains(m));
        Self {
            status: if running && in_topology {
                "ok"
            } else {
                "unavailable"
            },
            running,
            in_topology,
            member: member.map(ToString::to_string),
        }
    }

    /// Whether the node is ready: running and in its topology.
    pub(crate) fn ready(&self) -> bool {
        self.running && self.in_topology
    }
}
