#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::GossipNode;
use chorus_core::provider::{ClusterProvider, ProviderError};
use chorus_core::topology::Member;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::LocalClusterProviderConfig;
use crate::gossip_handle::GossipHandle;
use crate::seed_resolver::{self, SeedLookup, SeedResolver, SystemLookup};
use crate::transport::{TokioTcpTransport, TransportError};

/// The provider of a real node: when started it binds its address, creates the
/// `GossipNode` and hands it with the transport to the [`TokioGossiper`](crate::TokioGossiper).
/// From then on the gossip loop publishes `TopologyUpdated` on the `EventStream`, and the
/// `ClusterExtension` applies it.
///
/// A bind failure (address in use, say) fails `start` with `ProviderError::Bind`, which
/// makes `ClusterCore` publish `StartupFailed` with the reason; so does a wildcard bind
/// (`0.0.0.0:7000`) without an advertised address, with `ProviderError::Config`.
///
/// Seeds are `IP:PORT` addresses, used as given, or `HOST:PORT` names
/// (`chorus.default.svc:7000`), which a task of the provider looks up when it starts and
/// again while the node is alone (see [`SeedResolver::run`]): the node contacts every
/// address a name resolves to, so a headless service or a round-robin DNS record serves
/// as the seed list. A name that does not resolve is logged as a warning, once per
/// distinct error, and looked up again; the node starts anyway.
///
/// Stopping closes the transport at once. The graceful leave is not part of `stop`:
/// `ClusterProvider::stop` is synchronous and runs under the `ClusterCore` lock, where
/// waiting for peers' acknowledgements would block the runtime the gossip loop needs to
/// receive them. [`Cluster::shutdown`](crate::Cluster::shutdown) leaves first (it waits,
/// asynchronously, until every peer acknowledged or the leave timeout passed) and then
/// stops the core; users of `ClusterExtension` without a `Cluster` call
/// [`GossipHandle::leave`] before `ClusterExtension::shutdown` for the same effect.
#[derive(Debug)]
pub(crate) struct LocalClusterProvider {
    config: LocalClusterProviderConfig,
    gossip: GossipHandle,
    events: EventStream<ClusterEvent>,
    transport: Option<TokioTcpTransport>,
    /// A listener bound by the caller, used by the next start instead of binding.
    listener: Option<std::net::TcpListener>,
    /// How seed names are looked up.
    seed_lookup: Arc<dyn SeedLookup>,
    /// The task looking the seed names up while started (none without names).
    seed_task: Option<JoinHandle<()>>,
}

impl LocalClusterProvider {
    /// A provider that will attach its node to the gossiper behind `gossip`.
    pub(crate) fn new(
        config: LocalClusterProviderConfig,
        gossip: GossipHandle,
        events: EventStream<ClusterEvent>,
    ) -> Self {
        Self {
            config,
            gossip,
            events,
            transport: None,
            listener: None,
            seed_lookup: Arc::new(SystemLookup),
            seed_task: None,
        }
    }

    /// Looks seed names up with `lookup` instead of the system's resolver.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn with_seed_lookup(mut self, lookup: Arc<dyn SeedLookup>) -> Self {
        self.seed_lookup = lookup;
        self
    }

    /// Starts looking the seed names up, if there are any, in a task of its own: `start`
    /// runs under the core's lock, where a lookup must not block.
    fn resolve_seeds(&mut self, resolver: SeedResolver, given: Vec<String>) {
        if !resolver.has_names() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Not reached: the transport that was just bound needs the runtime too.
            tracing::warn!("outside a Tokio runtime: seed names are not looked up");
            return;
        };
        let span = tracing::info_span!("seeds", member = %self.config.member);
        let interval = seed_resolver::alone_interval(self.config.gossip.gossip_interval_ms);
        let task = resolver.run(given, self.gossip.clone(), self.events.clone(), interval);
        self.seed_task = Some(runtime.spawn(task.instrument(span)));
    }

    fn stop_resolving_seeds(&mut self) {
        if let Some(task) = self.seed_task.take() {
            task.abort();
        }
    }

    /// Makes the next start use `listener`, bound already, instead of binding
    /// `config.bind` (the builder binds first to name a node after its port).
    #[must_use]
    pub(crate) fn with_listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }
}

/// The address to announce to peers for a listener bound at `bound`: `advertise` if set
/// — a host (the bound port is added) or `HOST:PORT` — otherwise the bound address, which
/// must then not be a wildcard (`0.0.0.0`, `::`) peers cannot dial.
fn advertised_address(bound: SocketAddr, advertise: Option<&str>) -> Result<String, ProviderError> {
    let Some(advertise) = advertise else {
        if bound.ip().is_unspecified() {
            return Err(ProviderError::Config {
                reason: format!(
                    "bound {bound}, a wildcard address peers cannot dial: set the address to advertise (ClusterBuilder::advertise, --advertise)"
                ),
            });
        }
        return Ok(bound.to_string());
    };
    if let Ok(ip) = advertise.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, bound.port()).to_string());
    }
    if !advertise.is_empty() && !advertise.contains(':') {
        return Ok(format!("{advertise}:{}", bound.port()));
    }
    let valid = advertise
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if valid {
        Ok(advertise.to_string())
    } else {
        Err(ProviderError::Config {
            reason: format!(
                "advertised address {advertise:?} is neither a host nor HOST:PORT with a port from 1 to 65535"
            ),
        })
    }
}

impl ClusterProvider for LocalClusterProvider {
    fn start(&mut self) -> Result<(), ProviderError> {
        if self.transport.is_some() {
            return Err(ProviderError::AlreadyStarted);
        }
        let config = &self.config;
        let checked = crate::names::check_member_name(config.member.name()).and_then(|()| {
            config
                .seeds
                .iter()
                .try_for_each(|s| crate::names::check_seed(s))
        });
        if let Err(reason) = checked {
            return Err(ProviderError::Config { reason });
        }
        let bound = match self.listener.take() {
            Some(listener) => TokioTcpTransport::from_listener(
                listener,
                &config.cluster_name,
                config.member.clone(),
                config.transport.clone(),
                self.events.clone(),
            ),
            None => TokioTcpTransport::bind(
                &config.bind,
                &config.cluster_name,
                config.member.clone(),
                config.transport.clone(),
                self.events.clone(),
            ),
        };
        let (transport, inbound) = bound.map_err(|e| match e {
            TransportError::Bind {
                address, reason, ..
            } => ProviderError::Bind { address, reason },
            other => ProviderError::Config {
                reason: other.to_string(),
            },
        })?;
        match advertised_address(transport.local_address(), config.advertise.as_deref()) {
            Ok(address) => transport.set_advertised_address(address),
            Err(e) => {
                transport.close();
                return Err(e);
            }
        }
        let member = Member::new(config.member.clone(), transport.advertised_address())
            .with_kinds(config.kinds.iter().cloned());
        // The names are looked up once the node runs; it starts with the addresses.
        let resolver = SeedResolver::new(&config.seeds, Arc::clone(&self.seed_lookup));
        let seeds = resolver.addresses();
        let node = GossipNode::new(member, seeds.clone(), config.gossip, config.rng_seed, 0)
            .map_err(|e| {
                transport.close();
                ProviderError::Config {
                    reason: e.to_string(),
                }
            })?;
        if let Err(e) = self.gossip.attach(node, transport.clone(), inbound) {
            transport.close();
            return Err(ProviderError::Config {
                reason: format!("the gossiper cannot take the node: {e}"),
            });
        }
        self.transport = Some(transport);
        self.resolve_seeds(resolver, seeds);
        Ok(())
    }

    fn stop(&mut self) -> Result<(), ProviderError> {
        let transport = self.transport.take().ok_or(ProviderError::NotStarted)?;
        self.stop_resolving_seeds();
        transport.close();
        Ok(())
    }
}

impl Drop for LocalClusterProvider {
    fn drop(&mut self) {
        self.stop_resolving_seeds();
        if let Some(transport) = self.transport.take() {
            transport.close();
        }
    }
}
