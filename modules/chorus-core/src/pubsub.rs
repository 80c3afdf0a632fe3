//! Distributed publish/subscribe: the broker's lifecycle as the cluster sees it.

mod pub_sub;
mod pub_sub_error;

pub use pub_sub::PubSub;
pub use pub_sub_error::PubSubError;

/// The kind that hosts topics; `ClusterCore` refuses to start while it is not registered.
pub const TOPIC_KIND: &str = "chorus.topic";
