//! `chorus-tokio`: drives the sans-IO `chorus-core` with Tokio — real sockets, real timers.
//!
//! - [`transport::TokioTcpTransport`]: TCP with handshakes, length-prefixed frames and
//!   bounded queues;
//! - [`TokioGossiper`]: the gossip loop around `chorus_core::gossip::GossipNode`;
//! - [`LocalClusterProvider`]: binds, joins through seeds, hands the node to the gossiper;
//! - [`TokioPubSub`]: the pub/sub broker of a node, driven in the gossip loop;
//! - [`Cluster`]: the facade users hold, built with [`Cluster::builder`]: events, gossip
//!   state, consensus, and pub/sub ([`Cluster::subscribe`], [`Cluster::subscribe_group`],
//!   [`Cluster::publish`], [`SubscriptionStream`], [`Delivery`]).
//!
//! Every protocol rule lives in `chorus-core`; this crate only moves bytes and time.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cluster;
mod cluster_builder;
mod cluster_events;
mod delivery;
mod gossip_command;
mod gossip_handle;
mod local_cluster_provider;
mod local_cluster_provider_config;
mod node_error;
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
pub use gossip_handle::GossipHandle;
pub use local_cluster_provider::LocalClusterProvider;
pub use local_cluster_provider_config::LocalClusterProviderConfig;
pub use node_error::NodeError;
pub use subscription_stream::SubscriptionStream;
pub use tokio_gossiper::TokioGossiper;
pub use tokio_pub_sub::TokioPubSub;
