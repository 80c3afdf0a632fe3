use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use chorus_core::cluster::{ClusterEvent, ClusterExtension};
use chorus_core::consensus::{ConsensusCheck, ConsensusHandle};
use chorus_core::event_stream::EventStream;
use chorus_core::pubsub::{PublishAck, Subscription};
use chorus_core::topology::{ClusterTopology, Member, MemberId};

use crate::admin::AdminServer;
use crate::node_snapshot::NodeSnapshot;
use crate::transport::TokioTcpTransport;
use crate::{
    ClusterBuilder, ClusterEvents, Delivery, GossipHandle, NodeError, NodeMetrics,
    SubscriptionStream,
};

/// A running chorus node: the facade users hold.
///
/// Built with [`Cluster::builder`]. A `Cluster` is a cheap handle: clones share the same
/// node, so many tasks can publish, subscribe and read at once. [`shutdown`](Self::shutdown)
/// (through any clone) leaves gracefully — peers block the node at once — and stops the
/// node for every clone. Dropping the last clone without it stops the node's tasks
/// abruptly — the listener and every connection close, the port is free again a moment
/// later — and peers detect the departure by heartbeat expiration, as after a crash.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use chorus_tokio::Cluster;
///
/// let node = Cluster::builder().name("node-a").start().await?;
/// // A clone is the same node: hand one to each task that needs it.
/// let publisher = node.clone();
/// let task = tokio::spawn(async move { publisher.publish_one("news", "from a task").await });
/// let _ack = task.await??; // `NoSubscribers`: nobody listens yet
/// node.shutdown().await?;
/// # Ok(()) }
/// ```
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
    /// What the node's loop last published (counters, queues, members last heard).
    snapshot: NodeSnapshot,
    /// The admin endpoint, when the builder was given an address.
    admin: OnceLock<AdminServer>,
}

/// A [`Cluster`] that does not keep the node alive (the admin endpoint holds one).
#[derive(Clone, Debug)]
pub(crate) struct WeakCluster {
    inner: Weak<Inner>,
}

impl WeakCluster {
    /// The node, unless every [`Cluster`] handle is gone.
    pub(crate) fn upgrade(&self) -> Option<Cluster> {
        self.inner.upgrade().map(|inner| Cluster { inner })
    }
}

impl Cluster {
    /// A builder with the defaults.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let node = chorus_tokio::Cluster::builder()
    ///     .name("node-a")
    ///     .bind("127.0.0.1:0") // a free port
    ///     .cluster_name("orders")
    ///     .start()
    ///     .await?;
    /// assert_eq!(node.member_id().await?.name(), "node-a");
    /// node.shutdown().await?;
    /// # Ok(()) }
    /// ```
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
        snapshot: NodeSnapshot,
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
                snapshot,
                admin: OnceLock::new(),
            }),
        }
    }

    /// A handle that does not keep the node alive.
    pub(crate) fn downgrade(&self) -> WeakCluster {
        WeakCluster {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// Ties the admin endpoint to the node: it stops with the node.
    pub(crate) fn set_admin(&self, admin: AdminServer) {
        if let Err(extra) = self.inner.admin.set(admin) {
            extra.stop();
        }
    }

    /// Whether the node runs: neither shut down (or shutting down) nor aborted.
    pub(crate) fn is_running(&self) -> bool {
        self.inner.running.load(Ordering::SeqCst)
    }

    /// What the node's loop last published.
    pub(crate) fn snapshot(&self) -> &NodeSnapshot {
        &self.inner.snapshot
    }

    /// The members blocked so far, as the `ClusterCore` holds them.
    pub(crate) fn blocked(&self) -> Vec<MemberId> {
        self.inner
            .extension
            .with_core(|core| core.blocked().cloned().collect())
    }

    /// Every subscription in this node's registry, sorted by topic, member and
    /// subscriber.
    pub(crate) async fn all_subscriptions(&self) -> Result<Vec<Subscription>, NodeError> {
        self.inner.gossip.all_subscriptions().await
    }

    /// The address the admin endpoint listens on (see
    /// [`ClusterBuilder::admin_addr`]), if the node serves one.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let node = chorus_tokio::Cluster::builder()
    ///     .admin_addr("127.0.0.1:0")
    ///     .start()
    ///     .await?;
    /// let admin = node.admin_address().expect("it serves one");
    /// assert_ne!(admin.port(), 0, "the port the system chose");
    /// // GET http://{admin}/metrics, /members, /health, /topics, /info
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn admin_address(&self) -> Option<SocketAddr> {
        self.inner.admin.get().map(AdminServer::address)
    }

    /// The address the node listens on.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// let bound = node.local_address();
    /// assert!(bound.ip().is_loopback());
    /// assert_ne!(bound.port(), 0, "the port the system chose for 127.0.0.1:0");
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn local_address(&self) -> SocketAddr {
        self.inner.transport.local_address()
    }

    /// The address peers reach the node at (give it to others as a seed).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use chorus_tokio::Cluster;
    ///
    /// let first = Cluster::builder().start().await?;
    /// // Another node joins through the first one's address.
    /// let second = Cluster::builder().seed(first.address()).start().await?;
    /// # second.shutdown().await?;
    /// # first.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn address(&self) -> String {
        self.inner.transport.advertised_address()
    }

    /// The node's events as a stream, starting with the most recent ones: by default the
    /// node replays to a new stream its last 256 lasting events and, kept apart, its last
    /// 256 pub/sub and gossip events ([`ClusterEvent::class`]), so no volume of traffic
    /// hides `Startup` or the latest `TopologyUpdated`.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// use chorus_tokio::core::cluster::ClusterEvent;
    /// use futures_util::StreamExt;
    ///
    /// let mut events = node.events();
    /// // The replay holds the node's first topology: itself alone.
    /// while let Some(event) = events.next().await {
    ///     if let ClusterEvent::TopologyUpdated(topology) = event {
    ///         println!("{} member(s)", topology.members().len());
    ///         break;
    ///     }
    /// }
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> ClusterEvents {
        ClusterEvents::new(&self.inner.events, self.inner.event_buffer)
    }

    /// The event stream itself, for callback subscribers.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// use chorus_tokio::core::cluster::ClusterEvent;
    ///
    /// let updates = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&updates);
    /// // The callback runs on the thread that publishes: keep it short, never block in it.
    /// let subscription = node.event_stream().subscribe(move |event| {
    ///     if matches!(event, ClusterEvent::TopologyUpdated(_)) {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///     }
    /// });
    /// println!("{} topology update(s) so far", updates.load(Ordering::Relaxed));
    /// drop(subscription); // unsubscribes
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn event_stream(&self) -> &EventStream<ClusterEvent> {
        &self.inner.events
    }

    /// The node's current member id (a new incarnation after a rejoin).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let node = chorus_tokio::Cluster::builder()
    ///     .name("node-a")
    ///     .incarnation(7)
    ///     .start()
    ///     .await?;
    /// let me = node.member_id().await?;
    /// assert_eq!((me.name(), me.incarnation()), ("node-a", 7));
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn member_id(&self) -> Result<MemberId, NodeError> {
        Ok(self.inner.gossip.member_id().await?)
    }

    /// The topology the `ClusterExtension` last applied.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// let topology = node.topology();
    /// println!(
    ///     "{} member(s), hash {:016x}",
    ///     topology.members().len(),
    ///     topology.hash()
    /// );
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn topology(&self) -> ClusterTopology {
        self.inner.extension.topology()
    }

    /// The members of the applied topology.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use chorus_tokio::Cluster;
    ///
    /// let a = Cluster::builder().name("a").start().await?;
    /// let b = Cluster::builder().name("b").seed(a.address()).start().await?;
    /// // Gossip brings them together within a few rounds.
    /// tokio::time::timeout(Duration::from_secs(10), async {
    ///     while a.members().len() < 2 {
    ///         tokio::time::sleep(Duration::from_millis(20)).await;
    ///     }
    /// })
    /// .await?;
    /// let names: Vec<String> = a.members().iter().map(|m| m.id().name().to_string()).collect();
    /// assert!(names.contains(&"b".to_string()), "{names:?}");
    /// # b.shutdown().await?;
    /// # a.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn members(&self) -> Vec<Member> {
        self.topology().members().to_vec()
    }

    /// Writes a gossip key of this node; returns whether its value changed.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// assert!(node.set("app.version", b"1.4.2").await?, "a new value");
    /// assert!(!node.set("app.version", b"1.4.2").await?, "the same value again");
    /// // Every peer reads it with `get` once gossip brought it there.
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<bool, NodeError> {
        Ok(self.inner.gossip.set(key, value).await?)
    }

    /// The value of `key` owned by `member`, as this node knows it.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// node.set("app.version", b"1.4.2").await?;
    /// let me = node.member_id().await?;
    /// let version = node.get(&me, "app.version").await?;
    /// assert_eq!(version.as_deref(), Some(&b"1.4.2"[..]));
    /// assert_eq!(node.get(&me, "app.missing").await?, None);
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, member: &MemberId, key: &str) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.inner.gossip.get(member, key).await?)
    }

    /// Registers a consensus check.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// use std::time::Duration;
    ///
    /// use chorus_tokio::core::consensus::ConsensusCheck;
    ///
    /// node.set("app.schema", b"v3").await?;
    /// let check = node
    ///     .register_consensus(ConsensusCheck::new("schema", "app.schema"))
    ///     .await?;
    /// // Alone, the node agrees with itself once the check was evaluated (within a round).
    /// let agreed = tokio::time::timeout(Duration::from_secs(10), async {
    ///     loop {
    ///         if let Some(value) = node.consensus(check).await? {
    ///             return Ok::<_, chorus_tokio::NodeError>(value);
    ///         }
    ///         tokio::time::sleep(Duration::from_millis(20)).await;
    ///     }
    /// })
    /// .await??;
    /// assert_eq!(agreed, b"v3");
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn register_consensus(
        &self,
        check: ConsensusCheck,
    ) -> Result<ConsensusHandle, NodeError> {
        Ok(self.inner.gossip.register_consensus(check).await?)
    }

    /// Removes a consensus check; returns whether it was registered (the built-in
    /// topology check cannot be removed).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// use chorus_tokio::core::consensus::ConsensusCheck;
    ///
    /// let check = node
    ///     .register_consensus(ConsensusCheck::new("schema", "app.schema"))
    ///     .await?;
    /// assert!(node.remove_consensus(check).await?);
    /// assert!(!node.remove_consensus(check).await?, "removed already");
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_consensus(&self, handle: ConsensusHandle) -> Result<bool, NodeError> {
        Ok(self.inner.gossip.remove_consensus(handle).await?)
    }

    /// The value every live member agrees on for the check, if they do.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// use std::time::Duration;
    ///
    /// use chorus_tokio::core::consensus::ConsensusCheck;
    ///
    /// node.set("app.schema", b"v3").await?;
    /// let check = node
    ///     .register_consensus(ConsensusCheck::new("schema", "app.schema"))
    ///     .await?;
    /// // Alone, the node agrees with itself once the check was evaluated (within a round).
    /// let agreed = tokio::time::timeout(Duration::from_secs(10), async {
    ///     loop {
    ///         if let Some(value) = node.consensus(check).await? {
    ///             return Ok::<_, chorus_tokio::NodeError>(value);
    ///         }
    ///         tokio::time::sleep(Duration::from_millis(20)).await;
    ///     }
    /// })
    /// .await??;
    /// assert_eq!(agreed, b"v3");
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn consensus(&self, handle: ConsensusHandle) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.inner.gossip.consensus(handle).await?)
    }

    /// The topology hash every live member agrees on, if they do.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// use std::time::Duration;
    ///
    /// // `Some(hash)` once every live member publishes the same topology hash.
    /// let hash = tokio::time::timeout(Duration::from_secs(10), async {
    ///     loop {
    ///         if let Some(hash) = node.topology_consensus().await? {
    ///             return Ok::<_, chorus_tokio::NodeError>(hash);
    ///         }
    ///         tokio::time::sleep(Duration::from_millis(20)).await;
    ///     }
    /// })
    /// .await??;
    /// println!("the cluster agrees on topology {hash:016x}");
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// use futures_util::StreamExt;
    ///
    /// let mut news = node.subscribe("news").await?;
    /// // A node's own subscribers receive what it publishes, as every other node's do.
    /// assert!(node.publish_one("news", "hello").await?.is_accepted());
    /// let delivery = news.next().await.ok_or("the stream ended")?;
    /// assert_eq!(&delivery.payload[..], b"hello");
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// let news = node.subscribe("news").await?;
    /// assert_eq!(node.subscriptions("news").await?.len(), 1);
    /// node.unsubscribe(news).await?;
    /// assert!(node.subscriptions("news").await?.is_empty());
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// use chorus_tokio::core::pubsub::{PublishAck, PublishRejection};
    ///
    /// // No subscriber anywhere yet: nothing is sent.
    /// let ack = node.publish("orders", vec![b"o-1".to_vec()]).await?;
    /// assert_eq!(
    ///     ack,
    ///     PublishAck::Rejected {
    ///         reason: PublishRejection::NoSubscribers
    ///     }
    /// );
    /// let _orders = node.subscribe("orders").await?;
    /// match node.publish("orders", vec![b"o-1".to_vec(), b"o-2".to_vec()]).await? {
    ///     PublishAck::Accepted { message_ids } => assert_eq!(message_ids.len(), 2),
    ///     PublishAck::Rejected { reason } => return Err(reason.to_string().into()),
    /// }
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn publish(
        &self,
        topic: &str,
        payloads: Vec<Vec<u8>>,
    ) -> Result<PublishAck, NodeError> {
        self.inner.gossip.publish(topic, payloads).await
    }

    /// Publishes one message on `topic` (see [`publish`](Self::publish)).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// let _news = node.subscribe("news").await?;
    /// let ack = node.publish_one("news", "hello").await?;
    /// assert!(ack.is_accepted(), "{ack:?}");
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn publish_one(
        &self,
        topic: &str,
        payload: impl Into<Vec<u8>>,
    ) -> Result<PublishAck, NodeError> {
        self.inner.gossip.publish(topic, vec![payload.into()]).await
    }

    /// Completes a group delivery (as [`Delivery::complete`] does): its instance may take
    /// the next message of that publisher. Does nothing for a broadcast delivery.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// use futures_util::StreamExt;
    ///
    /// let mut jobs = node.subscribe_group("jobs", "workers", 1).await?;
    /// assert!(node.publish_one("jobs", "resize 42").await?.is_accepted());
    /// let job = jobs.next().await.ok_or("the stream ended")?;
    /// // … do the work, then free the instance for the group's next job:
    /// node.complete(&job).await?;
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn complete(&self, delivery: &Delivery) -> Result<(), NodeError> {
        self.inner.gossip.complete(delivery).await
    }

    /// The subscriptions of `topic` in this node's registry (every member's, as gossip
    /// brought them here), sorted by member and subscriber.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// let _news = node.subscribe("news").await?;
    /// let _archive = node.subscribe_group("news", "archivers", 4).await?;
    /// let subscriptions = node.subscriptions("news").await?;
    /// assert_eq!(subscriptions.len(), 2);
    /// assert_eq!(
    ///     subscriptions
    ///         .iter()
    ///         .filter(|s| s.group.as_deref() == Some("archivers"))
    ///         .count(),
    ///     1
    /// );
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn subscriptions(&self, topic: &str) -> Result<Vec<Subscription>, NodeError> {
        self.inner.gossip.subscriptions(topic).await
    }

    /// Every counter and gauge of the node at once — members, joins, leaves, blocks,
    /// gossip rounds, bytes and frames in and out, connects, refusals, decode errors,
    /// queue depths, and pub/sub per topic with its delivery latency histogram (see
    /// [`NodeMetrics`]). Synchronous and cheap: it copies what the node's loop published
    /// at its last gossip round and reads the transport's counters, without waiting for
    /// the loop.
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// let metrics = node.metrics();
    /// assert_eq!(metrics.members, 1, "alone so far");
    /// assert_eq!(metrics.topic("orders").published, 0, "nothing published here");
    /// println!("{} bytes sent", metrics.transport.bytes_out);
    /// # node.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn metrics(&self) -> NodeMetrics {
        let inner = &self.inner;
        // The Tokio node never turns the core's metrics off.
        let cluster = inner.extension.metrics().unwrap_or_default();
        let transport = inner.transport.metrics();
        inner.snapshot.read(|data| NodeMetrics {
            members: cluster.members,
            blocked: cluster.blocked,
            cluster,
            gossip: data.gossip,
            transport,
            pending_batches: data.pending_batches,
            inbound_queue: data.inbound_queue,
            command_queue: data.command_queue,
            topics: data.topics.clone(),
        })
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
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// let other = node.clone();
    /// node.shutdown().await?;
    /// // The node stopped for every clone.
    /// assert!(other.subscribe("news").await.is_err());
    /// # Ok(()) }
    /// ```
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
        // Last, so that a readiness probe saw 503 while the node was leaving.
        if let Some(admin) = inner.admin.get() {
            admin.stop_and_wait().await;
        }
        left?;
        stopped.map_err(NodeError::from)
    }

    /// Stops the node at once without telling anyone, as a crash would (for every clone).
    ///
    /// ```
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let node = chorus_tokio::Cluster::builder().start().await?;
    /// // No leave: peers find out by heartbeat expiration, as after a crash.
    /// node.abort();
    /// # Ok(()) }
    /// ```
    pub fn abort(self) {
        self.inner.stop_abruptly();
    }
}

impl Inner {
    fn stop_abruptly(&self) {
        if self.running.swap(false, Ordering::SeqCst) {
            let _ = self.extension.shutdown();
        }
        if let Some(admin) = self.admin.get() {
            admin.stop();
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
