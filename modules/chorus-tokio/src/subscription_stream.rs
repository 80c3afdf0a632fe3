use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use chorus_core::pubsub::SubscriberId;
use futures_util::Stream;
use tokio::sync::mpsc;

use crate::tokio_pub_sub::SinkCounters;
use crate::{Delivery, GossipHandle, NodeError};

/// The deliveries of one subscription, as a Tokio stream (from
/// [`Cluster::subscribe`](crate::Cluster::subscribe) or
/// [`Cluster::subscribe_group`](crate::Cluster::subscribe_group)).
///
/// Deliveries wait in a buffer of `subscription_buffer` messages (default 1,024). A
/// **broadcast** subscriber that falls so far behind that its buffer is full misses the
/// messages that arrive meanwhile: each is dropped, counted ([`dropped`](Self::dropped))
/// and reported as `PubSubEvent::DeliveryDropped` on the node's events — never silently,
/// and never by blocking the node (broadcast is at most once). A **group** instance's
/// deliveries are never dropped: the instance holds at most its in-flight limit per
/// publishing node until it completes them, which bounds its buffer.
///
/// The stream ends when the node shuts down. Dropping it unsubscribes (the node gossips
/// the change at once; a group instance's unfinished messages go back to its group's
/// queue, for another instance); [`unsubscribe`](Self::unsubscribe) does the same and
/// waits until the node took it in.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use futures_util::StreamExt;
///
/// let node = chorus_tokio::Cluster::builder().start().await?;
/// let mut news = node.subscribe("news").await?;
/// let ack = node
///     .publish("news", vec![b"first".to_vec(), b"second".to_vec()])
///     .await?;
/// assert!(ack.is_accepted());
/// for expected in [&b"first"[..], b"second"] {
///     let delivery = news.next().await.ok_or("the stream ended")?;
///     assert_eq!(&delivery.payload[..], expected);
/// }
/// assert_eq!((news.topic(), news.group(), news.dropped()), ("news", None, 0));
/// news.unsubscribe().await?;
/// node.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct SubscriptionStream {
    receiver: mpsc::UnboundedReceiver<Delivery>,
    counters: Arc<SinkCounters>,
    topic: String,
    group: Option<String>,
    subscriber: SubscriberId,
    handle: GossipHandle,
    subscribed: bool,
}

impl SubscriptionStream {
    pub(crate) fn new(
        receiver: mpsc::UnboundedReceiver<Delivery>,
        counters: Arc<SinkCounters>,
        topic: String,
        group: Option<String>,
        subscriber: SubscriberId,
        handle: GossipHandle,
    ) -> Self {
        Self {
            receiver,
            counters,
            topic,
            group,
            subscriber,
            handle,
            subscribed: true,
        }
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The load-balanced group; `None` for a broadcast subscriber.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The subscriber's id on this node, as the cluster's registry names it.
    pub fn subscriber(&self) -> &SubscriberId {
        &self.subscriber
    }

    /// Deliveries waiting in the buffer.
    pub fn queued(&self) -> usize {
        self.counters.queued()
    }

    /// Broadcast deliveries dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped()
    }

    /// Unsubscribes and waits until the node took it in (its gossip carries the change
    /// to the other nodes at once). Deliveries still in the buffer are discarded; a group
    /// instance's unfinished messages go back to its group's queue.
    pub async fn unsubscribe(mut self) -> Result<(), NodeError> {
        self.subscribed = false;
        self.receiver.close();
        self.handle.unsubscribe(&self.topic, &self.subscriber).await
    }
}

impl Stream for SubscriptionStream {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.receiver.poll_recv(cx) {
            Poll::Ready(Some(delivery)) => {
                this.counters.take_queued();
                Poll::Ready(Some(delivery.with_handle(&this.handle)))
            }
            other => other,
        }
    }
}

impl Drop for SubscriptionStream {
    fn drop(&mut self) {
        if self.subscribed {
            // The node also notices a dropped stream by itself (at its next delivery to it
            // or its next round), should its command queue be full right now.
            self.handle.unsubscribe_soon(&self.topic, &self.subscriber);
        }
    }
}

impl std::fmt::Debug for SubscriptionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionStream")
            .field("topic", &self.topic)
            .field("group", &self.group)
            .field("subscriber", &self.subscriber)
            .field("queued", &self.queued())
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}
