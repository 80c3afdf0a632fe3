use bytes::Bytes;
use chorus_core::pubsub::SubscriberId;
use chorus_core::topology::MemberId;

use crate::{GossipHandle, NodeError};

/// A message handed to a local subscriber, from a [`SubscriptionStream`](crate::SubscriptionStream).
///
/// A **group** delivery (`group` is `Some`) keeps its instance busy until it is completed
/// — [`complete`](Self::complete) or [`Cluster::complete`](crate::Cluster::complete) — up
/// to the instance's in-flight limit per publishing node: an instance that never
/// completes takes no more messages of that publisher, and the group's other instances
/// (or its queue) take them instead. Dropping a group delivery without completing it
/// therefore leaves its slot taken until the subscription ends (dropping the stream puts
/// its unfinished messages back in the group's queue, for another instance). A broadcast
/// delivery needs no completion.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use futures_util::StreamExt;
///
/// let node = chorus_tokio::Cluster::builder().start().await?;
/// let mut jobs = node.subscribe_group("jobs", "workers", 1).await?;
/// assert!(node.publish_one("jobs", "resize 42").await?.is_accepted());
/// let job = jobs.next().await.ok_or("the stream ended")?;
/// assert_eq!(job.group.as_deref(), Some("workers"));
/// println!(
///     "{} from {} (message {})",
///     String::from_utf8_lossy(&job.payload),
///     job.publisher,
///     job.message_id
/// );
/// job.complete().await?; // the instance may take the next job
/// node.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Bytes,
    /// The node that published it.
    pub publisher: MemberId,
    /// Its id, unique per publishing node.
    pub message_id: u64,
    /// The load-balanced group it was handed to this instance for; `None` for broadcast.
    pub group: Option<String>,
    subscriber: SubscriberId,
    handle: Option<GossipHandle>,
}

impl Delivery {
    pub(crate) fn new(
        topic: String,
        payload: Bytes,
        publisher: MemberId,
        message_id: u64,
        group: Option<String>,
        subscriber: SubscriberId,
    ) -> Self {
        Self {
            topic,
            payload,
            publisher,
            message_id,
            group,
            subscriber,
            handle: None,
        }
    }

    /// The stream that yields it gives it the way to complete itself.
    pub(crate) fn with_handle(mut self, handle: &GossipHandle) -> Self {
        self.handle = Some(handle.clone());
        self
    }

    /// The local subscriber it was handed to (the stream's id on this node).
    pub fn subscriber(&self) -> &SubscriberId {
        &self.subscriber
    }

    /// Tells the publishing node that this group instance finished the message, which
    /// frees its slot for the next one. Does nothing for a broadcast delivery. Completing
    /// twice, or after the message was handed to another instance, is ignored by the
    /// publisher.
    pub async fn complete(self) -> Result<(), NodeError> {
        match &self.handle {
            Some(handle) => handle.complete(&self).await,
            None if self.group.is_none() => Ok(()),
            None => Err(NodeError::PubSub(
                chorus_core::pubsub::PubSubError::NotStarted,
            )),
        }
    }
}
