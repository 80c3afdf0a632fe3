//! The cluster lifecycle, its events, and the extension that applies published topologies.

mod apply_outcome;
mod cluster_config;
mod cluster_core;
mod cluster_error;
mod cluster_event;
mod cluster_extension;
mod cluster_metrics;
mod cluster_state;
mod kind_error;
mod kind_registry;
mod metrics_error;
#[cfg(test)]
mod tests;

pub use apply_outcome::ApplyOutcome;
pub use cluster_config::ClusterConfig;
pub use cluster_core::ClusterCore;
pub use cluster_error::ClusterError;
pub use cluster_event::ClusterEvent;
pub use cluster_extension::ClusterExtension;
pub use cluster_metrics::ClusterMetrics;
pub use cluster_state::ClusterState;
pub use kind_error::KindError;
pub use kind_registry::KindRegistry;
pub use metrics_error::MetricsError;
