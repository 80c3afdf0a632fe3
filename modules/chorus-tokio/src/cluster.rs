use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chorus_core::cluster::{ClusterEvent, ClusterExtension, ClusterMetrics, MetricsError};
use chorus_core::consensus::{ConsensusCheck, ConsensusHandle};
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::GossipMetrics;
use chorus_core::pubsub::{PublishAck, Subscription, TopicMetrics};
use chorus_core::topology::{ClusterTopology, Member, MemberId};

use crate::transport::{TokioTcpTransport, TransportMetrics};
use crate::{ClusterBuilder, ClusterEvents, Delivery, GossipHandle, NodeError, SubscriptionStream};

/// A running chorus node: the facade users hold.
///
/// Built with [`Cluster::builder`]. A `Cluster` is a cheap handle: clones share the same
/// node, so many tasks can publish, subscribe and read at once. [`shutdown`](Self::shutdown)
/// (through any clone) leaves gracefully — peers block the node at once — and stops the
/// node for every clone. Dropping the last clone without it stops the node's tasks
/// abruptly — the listener and every connection close, the port is free again a moment
/// later — and peers detect the departure by heartbeat expiration, as after a crash.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

/// What the clones of a [`Cluster`] share.
struct Inner {
    extension: Arc<ClusterExtension>,
    gossip: GossipHandle,
    events: EventStream<ClusterEvent>,
    transport: TokioTcpTransport,
    leave_timeout: Duration,
    event_buffer: usize,
    running: AtomicBool,
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
            inner: Arc::new(Inner {
                extension,
                gossip,
                events,
                transport,
                leave_timeout,
                event_buffer,
                running: AtomicBool::new(true),
            }),
        }
    }

    /// The address the node listens on.
    pub fn local_address(&self) -> SocketAddr {
        self.inner.transport.local_address()
    }

    /// The address peers reach the node at (give it to others as a seed).
    pub fn address(&self) -> String {
        self.inner.transport.advertised_address()
    }

    /// The node's events as a stream, starting with the most recent ones: by default the
    /// node replays to a new stream its last 256 lasting events and, kept apart, its last
    /// 256 pub/sub and gossip events ([`ClusterEvent::class`]), so no volume of traffic
    /// hides `Startup` or the latest `TopologyUpdated`.
    pub fn events(&self) -> ClusterEvents {
        ClusterEvents::new(&self.inner.events, self.inner.event_buffer)
    }

    /// The event stream itself, for callback subscribers.
    pub fn event_stream(&self) -> &EventStream<ClusterEvent> {
        &self.inner.events
    }

    /// The node's current member id (a new incarnation after a rejoin).
    pub async fn member_id(&self) -> Result<MemberId, NodeError> {
        Ok(self.inner.gossip.member_id().await?)
    }

    /// The topology the `ClusterExtension` last applied.
    pub fn topology(&self) -> ClusterTopology {
        self.inner.extension.topology()
    }

    /// The members of the applied topology.
    pub fn members(&self) -> Vec<Member> {
        self.topology().members().to_vec()
    }

    /// Writes a gossip key of this node; returns whether its value changed.
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<bool, NodeError> {
        Ok(self.inner.gossip.set(key, value).await?)
    }

    /// The value of `key` owned by `member`, as this node knows it.
    pub async fn get(&self, member: &MemberId, key: &str) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.inner.gossip.get(member, key).await?)
    }

    /// Registers a consensus check.
    pub async fn register_consensus(
        &self,
        check: ConsensusCheck,
    ) -> Result<ConsensusHandle, NodeError> {
        Ok(self.inner.gossip.register_consensus(check).await?)
    }

    /// Removes a consensus check; returns whether it was registered (the built-in
    /// topology check cannot be removed).
    pub async fn remove_consensus(&self, handle: ConsensusHandle) -> Result<bool, NodeError> {
        Ok(self.inner.gossip.remove_consensus(handle).await?)
    }

    /// The value every live member agrees on for the check, if they do.
    pub async fn consensus(&self, handle: ConsensusHandle) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.inner.gossip.consensus(handle).await?)
    }

    /// The topology hash every live member agrees on, if they do.
    pub async fn topology_consensus(&self) -> Result<Option<u64>, NodeError> {
        Ok(self.inner.gossip.topology_consensus().await?)
    }

    /// Subscribes to `topic` as a broadcast subscriber: the stream yields every message
    /// published on the topic anywhere in the cluster from now on, once, in publish order
    /// per publishing node (at most once: see [`SubscriptionStream`] for a subscriber that
    /// falls behind).
    ///
    /// The subscription is gossiped at once; a node publishes to it once it learnt it
    /// (within a message delay). Dropping the stream unsubscribes.
    pub async fn subscribe(&self, topic: &str) -> Result<SubscriptionStream, NodeError> {
        self.inner.gossip.subscribe(topic, None, 1).await
    }

    /// Subscribes to `topic` as an instance of the load-balanced `group`: each message
    /// published on the topic goes to exactly one instance of the group, the next idle
    /// one in round-robin order. An instance holds at most `max_in_flight` messages of a
    /// publishing node until it completes them ([`Delivery::complete`]); when every
    /// instance is busy, messages wait in the group's queue at the publisher
    /// (`group_queue_capacity`), and a publish that does not fit is refused with
    /// `QueueFull`.
    ///
    /// Dropping the stream unsubscribes, and the messages the instance had not completed
    /// go to other instances.
    ///
    /// ```no_run
    /// # async fn run(node: chorus_tokio::Cluster) -> Result<(), chorus_tokio::NodeError> {
    /// use futures_util::StreamExt;
    ///
    /// let mut orders = node.subscribe_group("orders", "billing", 1).await?;
    /// while let Some(order) = orders.next().await {
    ///     // … handle order.payload, idempotently: a message whose instance went away
    ///     // is handed to another one …
    ///     order.complete().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn subscribe_group(
        &self,
        topic: &str,
        group: &str,
        max_in_flight: u32,
    ) -> Result<SubscriptionStream, NodeError> {
        self.inner
            .gossip
            .subscribe(topic, Some(group), max_in_flight)
            .await
    }

    /// Unsubscribes `stream` and waits until the node took it in (the same as dropping
    /// it, which does not wait).
    pub async fn unsubscribe(&self, stream: SubscriptionStream) -> Result<(), NodeError> {
        stream.unsubscribe().await
    }

    /// Publishes `payloads` on `topic`, in order, and returns the broker's answer:
    /// `Accepted` with the message ids (every message was sent to its subscribers' nodes
    /// or queued in a group), or `Rejected` with nothing sent — `NoSubscribers`,
    /// `PayloadTooLarge` (over `max_payload_bytes`), `QueueFull` (a group cannot take
    /// them all), `InvalidTopic`, `NotStarted`. Fails with
    /// `NodeError::PubSub(NotStarted)` only when the node's loop does not run.
    ///
    /// Accepted means planned, not delivered: deliveries are confirmed by the subscribers'
    /// nodes, and failures (`Timeout`, `Unreachable`) are reported as
    /// `PubSubEvent::DeliveryFailed` on [`events`](Self::events).
    pub async fn publish(
        &self,
        topic: &str,
        payloads: Vec<Vec<u8>>,
    ) -> Result<PublishAck, NodeError> {
        self.inner.gossip.publish(topic, payloads).await
    }

    /// Publishes one message on `topic` (see [`publish`](Self::publish)).
    pub async fn publish_one(
        &self,
        topic: &str,
        payload: impl Into<Vec<u8>>,
    ) -> Result<PublishAck, NodeError> {
        self.inner.gossip.publish(topic, vec![payload.into()]).await
    }

    /// Completes a group delivery (as [`Delivery::complete`] does): its instance may take
    /// the next message of that publisher. Does nothing for a broadcast delivery.
    pub async fn complete(&self, delivery: &Delivery) -> Result<(), NodeError> {
        self.inner.gossip.complete(delivery).await
    }

    /// The subscriptions of `topic` in this node's registry (every member's, as gossip
    /// brought them here), sorted by member and subscriber.
    pub async fn subscriptions(&self, topic: &str) -> Result<Vec<Subscription>, NodeError> {
        self.inner.gossip.subscriptions(topic).await
    }

    /// This node's pub/sub counters of `topic`: published, rejected, delivered, failed,
    /// received, completed, requeued.
    pub async fn topic_metrics(&self, topic: &str) -> Result<TopicMetrics, NodeError> {
        self.inner.gossip.topic_metrics(topic).await
    }

    /// Gossip counters.
    pub async fn gossip_metrics(&self) -> Result<GossipMetrics, NodeError> {
        Ok(self.inner.gossip.metrics().await?)
    }

    /// Transport counters (bytes and frames in and out, connects, refusals, errors).
    pub fn transport_metrics(&self) -> TransportMetrics {
        self.inner.transport.metrics()
    }

    /// Cluster counters (members, joins, leaves, updates).
    pub fn metrics(&self) -> Result<ClusterMetrics, MetricsError> {
        self.inner.extension.metrics()
    }

    /// Leaves the cluster gracefully, then stops the provider, gossip and pub/sub (every
    /// subscription stream ends) and the transport.
    ///
    /// The node writes its left key and sends it to every live peer, again each request
    /// timeout to those that have not answered, until all acknowledged — each blocks the
    /// node at once — or `leave_timeout` passed. In the second case the node stops anyway
    /// and the result is [`NodeError::LeaveTimedOut`] with the peers that did not
    /// acknowledge (they block it after their heartbeat expiration). The listener is
    /// released before this returns.
    pub async fn shutdown(self) -> Result<(), NodeError> {
        let inner = &self.inner;
        if !inner.running.swap(false, Ordering::SeqCst) {
            // Another clone shut the node down already.
            return Ok(());
        }
        // The loop answers by the deadline itself; the margin only guards against a loop
        // that no longer answers at all.
        let guard = inner.leave_timeout.saturating_add(Duration::from_secs(1));
        let left = tokio::time::timeout(guard, inner.gossip.leave(inner.leave_timeout))
            .await
            .unwrap_or_else(|_| {
                Err(NodeError::LeaveTimedOut {
                    waited_ms: guard.as_millis() as u64,
                    unacknowledged: Vec::new(),
                })
            });
        let stopped = inner.extension.shutdown();
        inner.transport.close_and_wait().await;
        left?;
        stopped.map_err(NodeError::from)
    }

    /// Stops the node at once without telling anyone, as a crash would (for every clone).
    pub fn abort(self) {
        self.inner.stop_abruptly();
    }
}

impl Inner {
    fn stop_abruptly(&self) {
        if self.running.swap(false, Ordering::SeqCst) {
            let _ = self.extension.shutdown();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_abruptly();
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("address", &self.address())
            .field("running", &self.inner.running.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}
