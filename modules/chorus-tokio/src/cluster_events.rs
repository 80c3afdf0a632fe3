use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::{EventStream, Subscription};
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// The events of a node as a Tokio stream (from [`Cluster::events`](crate::Cluster::events)).
///
/// Events wait in a bounded buffer; when a consumer falls so far behind that the buffer is
/// full, newer events are dropped and counted ([`dropped`](Self::dropped)) rather than
/// growing memory. Dropping the stream unsubscribes.
pub struct ClusterEvents {
    receiver: ReceiverStream<ClusterEvent>,
    dropped: Arc<AtomicU64>,
    _subscription: Subscription<ClusterEvent>,
}

/// The largest buffer of a stream, in events.
pub(crate) const MAX_EVENT_BUFFER: usize = 1 << 20;

impl ClusterEvents {
    pub(crate) fn new(events: &EventStream<ClusterEvent>, buffer: usize) -> Self {
        let (sender, receiver) = mpsc::channel(buffer.clamp(1, MAX_EVENT_BUFFER));
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&dropped);
        let subscription = events.subscribe(move |event| {
            if sender.try_send(event.clone()).is_err() {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        Self {
            receiver: ReceiverStream::new(receiver),
            dropped,
            _subscription: subscription,
        }
    }

    /// Events dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Stream for ClusterEvents {
    type Item = ClusterEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

impl std::fmt::Debug for ClusterEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterEvents")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}
