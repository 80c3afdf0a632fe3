//! `chorus-tokio`: drives the sans-IO `chorus-core` with Tokio — real sockets, real timers.
//!
//! What a user holds:
//! - [`Cluster`]: the facade, built with [`Cluster::builder`] ([`ClusterBuilder`]):
//!   events ([`ClusterEvents`]), gossip state, consensus, and pub/sub
//!   ([`Cluster::subscribe`], [`Cluster::subscribe_group`], [`Cluster::publish`],
//!   [`SubscriptionStream`], [`Delivery`]); cheap to clone, so many tasks can share it;
//! - its settings ([`transport::TransportConfig`], and the core's `GossipConfig` and
//!   `PubSubConfig`) and errors ([`NodeError`], [`transport::TransportError`]);
//! - its figures: [`Cluster::metrics`] ([`NodeMetrics`]), exported with the members,
//!   health and topics on the admin endpoint ([`ClusterBuilder::admin_addr`]).
//!
//! Inside, one task per node runs the core's `chorus_core::node::Node` — the gossip node
//! and the pub/sub broker composed once, in the core — over the TCP transport
//! (`TokioTcpTransport`: handshakes, length-prefixed frames, bounded queues)
//! and Tokio timers. Every protocol rule lives in `chorus-core`; this crate only moves
//! bytes and time (see `docs/architecture.md`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admin;
mod cluster;
mod cluster_builder;
mod cluster_events;
mod delivery;
mod gossip_command;
mod gossip_handle;
mod local_cluster_provider;
mod local_cluster_provider_config;
mod names;
mod node_config;
mod node_error;
mod node_metrics;
mod node_snapshot;
mod seed_resolver;
mod subscription_stream;
#[cfg(test)]
mod test_support;
mod tokio_gossiper;
mod tokio_pub_sub;
pub mod transport;

pub use chorus_core as core;
pub use cluster::Cluster;
pub use cluster_builder::ClusterBuilder;
pub use cluster_events::ClusterEvents;
pub use delivery::Delivery;
pub(crate) use gossip_handle::GossipHandle;
pub(crate) use local_cluster_provider::LocalClusterProvider;
pub(crate) use local_cluster_provider_config::LocalClusterProviderConfig;
pub use node_config::{ConfigError, NodeConfig};
pub use node_error::NodeError;
pub use node_metrics::NodeMetrics;
pub use subscription_stream::SubscriptionStream;
pub(crate) use tokio_gossiper::TokioGossiper;
pub(crate) use tokio_pub_sub::TokioPubSub;
