//! Cluster providers: where the topology comes from.

mod cluster_provider;
mod provider_error;
mod static_cluster_provider;
#[cfg(test)]
mod tests;

pub use cluster_provider::ClusterProvider;
pub use provider_error::ProviderError;
pub use static_cluster_provider::StaticClusterProvider;
