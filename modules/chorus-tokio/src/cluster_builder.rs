use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chorus_core::cluster::{
    ClusterConfig, ClusterCore, ClusterError, ClusterEvent, ClusterExtension,
};
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::{GossipConfig, GossiperError};
use chorus_core::provider::ProviderError;
use chorus_core::pubsub::PubSubConfig;
use chorus_core::topology::MemberId;

use crate::admin::AdminServer;
use crate::transport::TransportConfig;
use crate::{
    Cluster, LocalClusterProvider, LocalClusterProviderConfig, TokioGossiper, TokioPubSub,
};

/// Events of each class (lasting, transient) a node's default stream replays to a late
/// subscriber.
const EVENT_REPLAY: usize = 256;

/// Builds and starts a [`Cluster`] node.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let node = chorus_tokio::Cluster::builder()
///     .name("node-a")
///     .bind("127.0.0.1:0") // a free port; `127.0.0.1:7000` in production
///     // A node with no live seed starts alone, and joins when one answers.
///     .seed("127.0.0.1:7001")
///     .cluster_name("orders")
///     .start()
///     .await?;
/// println!("listening at {}", node.address());
/// node.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    /// Every setting a configuration file holds: `config` replaces it whole, the setters
    /// change one field each, and its defaults are the builder's.
    settings: crate::NodeConfig,
    incarnation: Option<u64>,
    rng_seed: Option<u64>,
    events: Option<EventStream<ClusterEvent>>,
}

impl ClusterBuilder {
    pub(crate) fn new() -> Self {
        Self {
            settings: crate::NodeConfig::new(),
            incarnation: None,
            rng_seed: None,
            events: None,
        }
    }

    /// The member name (default: `node-` and the bound port, `node-7000`, the system's
    /// choice when binding port 0). Members are told apart by name and incarnation, and
    /// ports repeat across hosts: give nodes on several hosts a name of their own.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.settings.name = Some(name.into());
        self
    }

    /// The address to listen on (default `127.0.0.1:0`, a free port).
    #[must_use]
    pub fn bind(mut self, address: impl Into<String>) -> Self {
        self.settings.bind = address.into();
        self
    }

    /// The address peers dial to reach this node (default: the bound address): a host
    /// (`10.0.0.5`, `db1.example`; the bound port is added) or `HOST:PORT`. Needed when
    /// binding a wildcard address (`0.0.0.0:7000`), which peers cannot dial: such a node
    /// refuses to start without it.
    #[must_use]
    pub fn advertise(mut self, address: impl Into<String>) -> Self {
        self.settings.advertise = Some(address.into());
        self
    }

    /// Adds a seed to join through: `IP:PORT`, or a DNS name `HOST:PORT`
    /// (`chorus.default.svc:7000`) that stands for every address it resolves to, looked
    /// up when the node starts and again while it is alone. A name that does not resolve
    /// is logged as a warning and looked up again; the node starts anyway.
    #[must_use]
    pub fn seed(mut self, address: impl Into<String>) -> Self {
        self.settings.seeds.push(address.into());
        self
    }

    /// Adds seeds (each as [`seed`](Self::seed) takes it).
    #[must_use]
    pub fn seeds<I, S>(mut self, addresses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings
            .seeds
            .extend(addresses.into_iter().map(Into::into));
        self
    }

    /// The cluster's name (default `chorus`): nodes of another cluster are refused.
    #[must_use]
    pub fn cluster_name(mut self, name: impl Into<String>) -> Self {
        self.settings.cluster_name = name.into();
        self
    }

    /// The kinds this node hosts.
    #[must_use]
    pub fn kinds<I, S>(mut self, kinds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.kinds = kinds.into_iter().map(Into::into).collect();
        self
    }

    /// Gossip settings (default `GossipConfig::new()`).
    #[must_use]
    pub fn gossip_config(mut self, config: GossipConfig) -> Self {
        self.settings.gossip = config;
        self
    }

    /// Transport settings.
    #[must_use]
    pub fn transport_config(mut self, config: TransportConfig) -> Self {
        self.settings.transport = config;
        self
    }

    /// Pub/sub settings (default `PubSubConfig::new()`: payloads up to 256 KiB, group
    /// queues of 1,024 messages, a delivery timeout of 5 s, batches of 512 KiB). Batches
    /// must fit the transport's `max_frame_bytes` with 64 KiB to spare, or the node
    /// refuses to start (`StartupFailed`).
    #[must_use]
    pub fn pub_sub_config(mut self, config: PubSubConfig) -> Self {
        self.settings.pub_sub = config;
        self
    }

    /// Deliveries buffered per subscription stream (default 1,024; from 1 to 1,048,576, a
    /// value outside is brought to the bound). A broadcast subscriber whose buffer is full
    /// misses the messages that arrive meanwhile, each counted and reported as
    /// `PubSubEvent::DeliveryDropped`; group deliveries are never dropped.
    #[must_use]
    pub fn subscription_buffer(mut self, deliveries: usize) -> Self {
        self.settings.subscription_buffer = deliveries;
        self
    }

    /// The incarnation (default: milliseconds since the Unix epoch, so a restarted
    /// process is a new, larger incarnation).
    #[must_use]
    pub fn incarnation(mut self, incarnation: u64) -> Self {
        self.incarnation = Some(incarnation);
        self
    }

    /// How long [`Cluster::shutdown`] waits for every peer to acknowledge the leave
    /// (default 2 s); the leave is sent again each request timeout to peers that have not
    /// answered. Past it, `shutdown` stops the node anyway and returns
    /// `NodeError::LeaveTimedOut` with the peers that did not acknowledge.
    #[must_use]
    pub fn leave_timeout(mut self, timeout: Duration) -> Self {
        self.settings.leave_timeout = timeout;
        self
    }

    /// Events buffered per [`Cluster::events`] stream before newer ones are dropped
    /// (default 1,024; from 1 to 1,048,576, a value outside is brought to the bound).
    #[must_use]
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.settings.event_buffer = events;
        self
    }

    /// Serves the node's admin endpoint on `address` (HTTP: `/metrics` in the Prometheus
    /// text format, `/members`, `/health`, `/topics`, `/info`); default: none. Use a
    /// loopback address unless the network is trusted: the endpoint has no
    /// authentication. Port 0 takes a free port ([`Cluster::admin_address`] tells which).
    /// The address is bound before the node starts, so a taken one fails
    /// [`start`](Self::start) with `bind ADDRESS failed` and starts nothing; the endpoint
    /// stops with the node (shutdown, abort or the last handle dropped).
    #[must_use]
    pub fn admin_addr(mut self, address: impl Into<String>) -> Self {
        self.settings.metrics_addr = Some(address.into());
        self
    }

    /// How many topics `/metrics` labels one by one (default 100; the first by name): the
    /// others are summed under `topic="_other"`, so that the number of series stays
    /// bounded whatever topics peers make this node deliver.
    #[must_use]
    pub fn metrics_max_topics(mut self, topics: usize) -> Self {
        self.settings.metrics_max_topics = topics;
        self
    }

    /// Applies a whole configuration ([`NodeConfig`](crate::NodeConfig), e.g. read from a
    /// `node.toml`): each of its settings replaces the builder's — an unset `name`,
    /// `advertise` or `metrics_addr` (the [`admin_addr`](Self::admin_addr)) too, and its
    /// `seeds` replace those added before. Call setters after `config` to override some.
    /// The incarnation and the event stream are not part of it and stay as they are.
    /// Check it first with [`NodeConfig::validate`](crate::NodeConfig::validate).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = chorus_tokio::NodeConfig::from_file("node.toml")?;
    /// config.validate()?;
    /// let node = chorus_tokio::Cluster::builder().config(config).start().await?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn config(mut self, config: crate::NodeConfig) -> Self {
        self.settings = config;
        self
    }

    /// Publishes the node's events on `events` (default: a new stream that replays to late
    /// subscribers its last 256 lasting events and, kept apart so that traffic cannot push
    /// them out, its last 256 pub/sub and gossip events; see [`ClusterEvent::class`] and
    /// [`EventStream::with_replay_by_class`]). Subscribe before `start` to see every event,
    /// `StartupFailed` included.
    #[must_use]
    pub fn event_stream(mut self, events: EventStream<ClusterEvent>) -> Self {
        self.events = Some(events);
        self
    }

    /// Starts the node: pub/sub, gossiper, then the provider, which binds and joins.
    /// Must be called inside a Tokio runtime. On failure `StartupFailed` was published
    /// and the error says which step failed (`bind 127.0.0.1:7000 failed: address in use`).
    pub async fn start(self) -> Result<Cluster, ClusterError> {
        let events = self.events.clone().unwrap_or_else(|| {
            EventStream::with_replay_by_class(EVENT_REPLAY, EVENT_REPLAY, ClusterEvent::class)
        });
        let admin = match self.admin_listener() {
            Ok(admin) => admin,
            Err(reason) => {
                events.publish(ClusterEvent::StartupFailed {
                    reason: reason.clone(),
                });
                return Err(reason);
            }
        };
        let incarnation = self.incarnation.unwrap_or_else(now_millis);
        let (name, bind, listener) = self.name_and_listener();
        let member = MemberId::new(&name, incarnation);
        let pub_sub = TokioPubSub::new(self.settings.pub_sub.clone())
            .with_subscription_buffer(self.settings.subscription_buffer)
            .with_max_frame_bytes(self.settings.transport.max_frame_bytes);
        let gossiper =
            TokioGossiper::new(self.settings.gossip, events.clone()).with_pub_sub(&pub_sub);
        let gossip = gossiper.handle();
        let snapshot = gossiper.snapshot();
        let provider = LocalClusterProvider::new(
            LocalClusterProviderConfig {
                bind,
                advertise: self.settings.advertise.clone(),
                seeds: self.settings.seeds.clone(),
                cluster_name: self.settings.cluster_name.clone(),
                member: member.clone(),
                kinds: self.settings.kinds.clone(),
                gossip: self.settings.gossip,
                transport: self.settings.transport.clone(),
                rng_seed: self.rng_seed.unwrap_or(incarnation ^ 0x9e37_79b9_7f4a_7c15),
            },
            gossip.clone(),
            events.clone(),
        );
        let provider = match listener {
            Some(listener) => provider.with_listener(listener),
            None => provider,
        };
        let mut config = ClusterConfig::new(self.settings.cluster_name.clone(), member);
        for kind in &self.settings.kinds {
            if !config.kinds.contains(kind) {
                config.kinds.push(kind.clone());
            }
        }
        let core = ClusterCore::new(
            config,
            Box::new(pub_sub),
            Box::new(gossiper),
            Box::new(provider),
        );
        let extension = Arc::new(ClusterExtension::new(core, events.clone()));
        extension.start()?;
        let transport = gossip.transport().await.map_err(|e| {
            let _ = extension.shutdown();
            ClusterError::Gossiper(match e {
                GossiperError::NotStarted => GossiperError::Driver {
                    reason: "the gossip loop stopped during start".to_string(),
                },
                other => other,
            })
        })?;
        let cluster = Cluster::new(
            extension,
            gossip,
            events,
            transport,
            self.settings.leave_timeout,
            self.settings.event_buffer,
            snapshot,
        );
        if let Some((address, listener)) = admin {
            match AdminServer::serve(
                listener,
                cluster.downgrade(),
                self.settings.metrics_max_topics,
            ) {
                Ok(server) => cluster.set_admin(server),
                Err(e) => {
                    let _ = cluster.clone().shutdown().await;
                    return Err(admin_bind_failed(&address, &e));
                }
            }
        }
        Ok(cluster)
    }
}

impl ClusterBuilder {
    /// The admin endpoint's listener, bound before anything starts.
    fn admin_listener(&self) -> Result<Option<(String, std::net::TcpListener)>, ClusterError> {
        let Some(address) = &self.settings.metrics_addr else {
            return Ok(None);
        };
        match AdminServer::bind(address) {
            Ok(listener) => Ok(Some((address.clone(), listener))),
            Err(e) => Err(admin_bind_failed(address, &e)),
        }
    }

    /// The member name, the address the provider binds, and the listener bound already.
    ///
    /// Without a name, the node is named after the port it binds, which is only known
    /// once bound (port 0): the address is bound here, and the listener handed to the
    /// provider. If binding fails here, the provider tries again and reports the failure
    /// as `StartupFailed`, as with a name.
    fn name_and_listener(&self) -> (String, String, Option<std::net::TcpListener>) {
        if let Some(name) = &self.settings.name {
            return (name.clone(), self.settings.bind.clone(), None);
        }
        let bound = std::net::TcpListener::bind(&self.settings.bind)
            .and_then(|listener| listener.local_addr().map(|address| (listener, address)));
        match bound {
            Ok((listener, address)) => (
                format!("node-{}", address.port()),
                address.to_string(),
                Some(listener),
            ),
            Err(_) => (
                default_name(&self.settings.bind),
                self.settings.bind.clone(),
                None,
            ),
        }
    }
}

/// `bind ADDRESS failed: REASON (admin endpoint)`.
fn admin_bind_failed(address: &str, error: &std::io::Error) -> ClusterError {
    ClusterError::Provider(ProviderError::Bind {
        address: address.to_string(),
        reason: format!("{error} (admin endpoint)"),
    })
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_millis() as u64)
}

/// The name of a node whose address could not be bound (it will not start anyway).
fn default_name(bind: &str) -> String {
    let port = bind.rsplit(':').next().unwrap_or("0");
    format!("node-{port}")
}
