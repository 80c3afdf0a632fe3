use core::fmt;

use super::{ClusterState, KindError};
use crate::gossip::GossiperError;
use crate::provider::ProviderError;
use crate::pubsub::PubSubError;

/// Why a lifecycle step of the cluster failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterError {
    /// The requested step is not allowed in the current state.
    InvalidTransition {
        /// The state the node is in.
        from: ClusterState,
        /// The state the step would lead to.
        to: ClusterState,
    },
    /// Start was refused because the pub/sub topic kind is not registered.
    TopicKindNotRegistered,
    /// Pub/sub failed to start or stop.
    PubSub(PubSubError),
    /// The gossiper failed to start or stop.
    Gossiper(GossiperError),
    /// The provider failed to start or stop.
    Provider(ProviderError),
    /// A kind could not be (un)registered.
    Kind(KindError),
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidTransition { from, to } => {
                write!(f, "cannot go from {from} to {to}")
            }
            Self::TopicKindNotRegistered => write!(
                f,
                "the pub/sub topic kind {:?} is not registered",
                crate::pubsub::TOPIC_KIND
            ),
            Self::PubSub(e) => write!(f, "pub/sub: {e}"),
            Self::Gossiper(e) => write!(f, "gossiper: {e}"),
            Self::Provider(e) => write!(f, "provider: {e}"),
            Self::Kind(e) => write!(f, "kind registry: {e}"),
        }
    }
}

impl core::error::Error for ClusterError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::PubSub(e) => Some(e),
            Self::Gossiper(e) => Some(e),
            Self::Provider(e) => Some(e),
            Self::Kind(e) => Some(e),
            _ => None,
        }
    }
}
