use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use chorus_core::gossip::GossipNode;
use chorus_core::provider::{ClusterProvider, ProviderError};
use chorus_core::topology::Member;

use crate::LocalClusterProviderConfig;
use crate::gossip_handle::GossipHandle;
use crate::transport::{TokioTcpTransport, TransportError};

/// The provider of a real node: when started it binds its address, creates the
/// `GossipNode` and hands it with the transport to the [`TokioGossiper`](crate::TokioGossiper).
/// From then on the gossip loop publishes `TopologyUpdated` on the `EventStream`, and the
/// `ClusterExtension` applies it.
///
/// A bind failure (address in use, say) fails `start` with `ProviderError::Bind`, which
/// makes `ClusterCore` publish `StartupFailed` with the reason. Stopping closes the
/// transport; a graceful leave is done before, by `Cluster::shutdown`, which waits until
/// every peer acknowledged it.
#[derive(Debug)]
pub struct LocalClusterProvider {
    config: LocalClusterProviderConfig,
    gossip: GossipHandle,
    events: EventStream<ClusterEvent>,
    transport: Option<TokioTcpTransport>,
}

impl LocalClusterProvider {
    /// A provider that will attach its node to the gossiper behind `gossip`.
    pub fn new(
        config: LocalClusterProviderConfig,
        gossip: GossipHandle,
        events: EventStream<ClusterEvent>,
    ) -> Self {
        Self {
            config,
            gossip,
            events,
            transport: None,
        }
    }
}

impl ClusterProvider for LocalClusterProvider {
    fn start(&mut self) -> Result<(), ProviderError> {
        if self.transport.is_some() {
            return Err(ProviderError::AlreadyStarted);
        }
        let config = &self.config;
        let (transport, inbound) = TokioTcpTransport::bind(
            &config.bind,
            &config.cluster_name,
            config.member.clone(),
            config.transport.clone(),
            self.events.clone(),
        )
        .map_err(|e| match e {
            TransportError::Bind { address, reason } => ProviderError::Bind { address, reason },
            other => ProviderError::Config {
                reason: other.to_string(),
            },
        })?;
        let member = Member::new(config.member.clone(), transport.advertised_address())
            .with_kinds(config.kinds.iter().cloned());
        let node = GossipNode::new(
            member,
            config.seeds.clone(),
            config.gossip,
            config.rng_seed,
            0,
        )
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
        Ok(())
    }

    fn stop(&mut self) -> Result<(), ProviderError> {
        let transport = self.transport.take().ok_or(ProviderError::NotStarted)?;
        transport.close();
        Ok(())
    }
}

impl Drop for LocalClusterProvider {
    fn drop(&mut self) {
        if let Some(transport) = self.transport.take() {
            transport.close();
        }
    }
}
