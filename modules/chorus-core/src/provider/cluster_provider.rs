use super::ProviderError;

/// The source of the topology: it publishes `ClusterEvent::TopologyUpdated` on the
/// `EventStream`, and the `ClusterExtension` applies what it publishes.
///
/// `ClusterCore` starts the provider last and stops it first.
pub trait ClusterProvider {
    /// Starts the provider; it may publish its first topology before returning.
    fn start(&mut self) -> Result<(), ProviderError>;
    /// Stops the provider (for a gossip provider: after it has left the cluster).
    fn stop(&mut self) -> Result<(), ProviderError>;
}
