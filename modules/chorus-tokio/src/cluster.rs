use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chorus_core::cluster::{ClusterEvent, ClusterExtension, ClusterMetrics, MetricsError};
use chorus_core::consensus::{ConsensusCheck, ConsensusHandle};
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::GossipMetrics;
use chorus_core::topology::{ClusterTopology, Member, MemberId};

use crate::transport::{TokioTcpTransport, TransportMetrics};
use crate::{ClusterBuilder, ClusterEvents, GossipHandle, NodeError};

/// A running chorus node: the facade users hold.
///
/// Built with [`Cluster::builder`]. [`shutdown`](Self::shutdown) leaves gracefully (peers
/// block the node at once); dropping the node without it stops its tasks abruptly — the
/// listener and every connection close, the port is free again a moment later — and peers
/// detect the departure by heartbeat expiration, as after a crash.
pub struct Cluster {
    extension: Arc<ClusterExtension>,
    gossip: GossipHandle,
    events: EventStream<ClusterEvent>,
    transport: TokioTcpTransport,
    leave_timeout: Duration,
    event_buffer: usize,
    running: bool,
}

impl Cluster {
    /// A builder with the defaults.
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder::new()
    }

    pub(crate) fn new(
        extension: Arc<ClusterExtension>,
        gossip: GossipHandle,
        events: EventStream<ClusterEvent>,
        transport: TokioTcpTransport,
        leave_timeout: Duration,
        event_buffer: usize,
    ) -> Self {
        Self {
            extension,
            gossip,
            events,
            transport,
            leave_timeout,
            event_buffer,
            running: true,
        }
    }

    /// The address the node listens on.
    pub fn local_address(&self) -> SocketAddr {
        self.transport.local_address()
    }

    /// The address peers reach the node at (give it to others as a seed).
    pub fn address(&self) -> String {
        self.transport.advertised_address()
    }

    /// The node's events as a stream, starting with the most recent ones (the node
    /// replays its last 256 events to a new stream, so `Startup` is never missed).
    pub fn events(&self) -> ClusterEvents {
        ClusterEvents::new(&self.events, self.event_buffer)
    }

    /// The event stream itself, for callback subscribers.
    pub fn event_stream(&self) -> &EventStream<ClusterEvent> {
        &self.events
    }

    /// A handle to the gossip loop.
    pub fn gossip(&self) -> &GossipHandle {
        &self.gossip
    }

    /// The node's current member id (a new incarnation after a rejoin).
    pub async fn member_id(&self) -> Result<MemberId, NodeError> {
        Ok(self.gossip.member_id().await?)
    }

    /// The topology the `ClusterExtension` last applied.
    pub fn topology(&self) -> ClusterTopology {
        self.extension.topology()
    }

    /// The members of the applied topology.
    pub fn members(&self) -> Vec<Member> {
        self.topology().members().to_vec()
    }

    /// Writes a gossip key of this node; returns whether its value changed.
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<bool, NodeError> {
        Ok(self.gossip.set(key, value).await?)
    }

    /// The value of `key` owned by `member`, as this node knows it.
    pub async fn get(&self, member: &MemberId, key: &str) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.gossip.get(member, key).await?)
    }

    /// Registers a consensus check.
    pub async fn register_consensus(
        &self,
        check: ConsensusCheck,
    ) -> Result<ConsensusHandle, NodeError> {
        Ok(self.gossip.register_consensus(check).await?)
    }

    /// The value every live member agrees on for the check, if they do.
    pub async fn consensus(&self, handle: ConsensusHandle) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.gossip.consensus(handle).await?)
    }

    /// The topology hash every live member agrees on, if they do.
    pub async fn topology_consensus(&self) -> Result<Option<u64>, NodeError> {
        Ok(self.gossip.topology_consensus().await?)
    }

    /// Gossip counters.
    pub async fn gossip_metrics(&self) -> Result<GossipMetrics, NodeError> {
        Ok(self.gossip.metrics().await?)
    }

    /// Transport counters (bytes and frames in and out, connects, refusals, errors).
    pub fn transport_metrics(&self) -> TransportMetrics {
        self.transport.metrics()
    }

    /// Cluster counters (members, joins, leaves, updates).
    pub fn metrics(&self) -> Result<ClusterMetrics, MetricsError> {
        self.extension.metrics()
    }

    /// Leaves the cluster gracefully, then stops pub/sub, gossip and the transport.
    ///
    /// The node writes its left key and sends it to every live peer, again each request
    /// timeout to those that have not answered, until all acknowledged — each blocks the
    /// node at once — or `leave_timeout` passed. In the second case the node stops anyway
    /// and the result is [`NodeError::LeaveTimedOut`] with the peers that did not
    /// acknowledge (they block it after their heartbeat expiration). The listener is
    /// released before this returns.
    pub async fn shutdown(mut self) -> Result<(), NodeError> {
        self.running = false;
        // The loop answers by the deadline itself; the margin only guards against a loop
        // that no longer answers at all.
        let guard = self.leave_timeout.saturating_add(Duration::from_secs(1));
        let left = tokio::time::timeout(guard, self.gossip.leave(self.leave_timeout))
            .await
            .unwrap_or_else(|_| {
                Err(NodeError::LeaveTimedOut {
                    waited_ms: guard.as_millis() as u64,
                    unacknowledged: Vec::new(),
                })
            });
        let stopped = self.extension.shutdown();
        self.transport.close_and_wait().await;
        left?;
        stopped.map_err(NodeError::from)
    }

    /// Stops the node at once without telling anyone, as a crash would.
    pub fn abort(mut self) {
        self.stop_abruptly();
    }

    fn stop_abruptly(&mut self) {
        if self.running {
            self.running = false;
            let _ = self.extension.shutdown();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_abruptly();
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("address", &self.address())
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}
