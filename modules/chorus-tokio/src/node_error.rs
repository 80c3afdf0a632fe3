use std::fmt;

use chorus_core::cluster::ClusterError;
use chorus_core::gossip::GossiperError;
use chorus_core::pubsub::PubSubError;
use chorus_core::topology::MemberId;

/// Why a call on a running [`Cluster`](crate::Cluster) failed.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use chorus_tokio::NodeError;
/// use chorus_tokio::core::pubsub::PubSubError;
///
/// let node = chorus_tokio::Cluster::builder().start().await?;
/// let late = node.clone();
/// node.shutdown().await?;
/// match late.subscribe("news").await {
///     // The message says what happened: "pub/sub: the node does not run (…)".
///     Err(e @ NodeError::PubSub(PubSubError::NotStarted)) => println!("{e}"),
///     Err(other) => return Err(other.into()),
///     Ok(_) => return Err("a stopped node took a subscription".into()),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeError {
    /// The gossip loop refused or does not run.
    Gossip(GossiperError),
    /// A lifecycle step failed.
    Cluster(ClusterError),
    /// A pub/sub call was refused: an invalid topic or subscriber, an in-flight limit of
    /// 0, a subscriber that is not subscribed (any more), or pub/sub not running
    /// (`NotStarted`: the node is not started or has shut down).
    PubSub(PubSubError),
    /// The graceful leave was not acknowledged by every peer within the leave timeout
    /// (the request to each was repeated until then); the node shut down anyway. The
    /// peers that acknowledged blocked the node at once; the others will block it after
    /// their heartbeat expiration, or are gone themselves.
    LeaveTimedOut {
        /// How long it waited, in milliseconds.
        waited_ms: u64,
        /// The peers that did not acknowledge, sorted.
        unacknowledged: Vec<MemberId>,
    },
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gossip(e) => write!(f, "gossip: {e}"),
            Self::Cluster(e) => write!(f, "cluster: {e}"),
            Self::PubSub(PubSubError::NotStarted) => f.write_str(
                "pub/sub: the node does not run (it has not started, or it shut down or aborted)",
            ),
            Self::PubSub(e) => write!(f, "pub/sub: {e}"),
            Self::LeaveTimedOut {
                waited_ms,
                unacknowledged,
            } if unacknowledged.is_empty() => write!(
                f,
                "leave not confirmed within {waited_ms} ms (the gossip loop did not answer); peers will detect the departure by heartbeat expiration"
            ),
            Self::LeaveTimedOut {
                waited_ms,
                unacknowledged,
            } => {
                write!(f, "leave not acknowledged within {waited_ms} ms by ")?;
                for (i, member) in unacknowledged.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{member}")?;
                }
                f.write_str(
                    "; they will detect the departure by heartbeat expiration (raise leave_timeout if they are merely slow)",
                )
            }
        }
    }
}

impl std::error::Error for NodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Gossip(e) => Some(e),
            Self::Cluster(e) => Some(e),
            Self::PubSub(e) => Some(e),
            Self::LeaveTimedOut { .. } => None,
        }
    }
}

impl From<GossiperError> for NodeError {
    fn from(e: GossiperError) -> Self {
        Self::Gossip(e)
    }
}

impl From<PubSubError> for NodeError {
    fn from(e: PubSubError) -> Self {
        Self::PubSub(e)
    }
}

impl From<ClusterError> for NodeError {
    fn from(e: ClusterError) -> Self {
        Self::Cluster(e)
    }
}
