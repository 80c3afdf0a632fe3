use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::{EventClass, EventStream, Subscription};
use futures_util::Stream;

#[cfg(test)]
mod tests;

/// The events of a node as a Tokio stream (from [`Cluster::events`](crate::Cluster::events)).
///
/// Events wait in a bounded buffer, so a consumer that falls behind does not grow memory.
/// When the buffer is full, a new event is dropped and counted ([`dropped`](Self::dropped)),
/// with one exception: a lasting event ([`ClusterEvent::class`]: lifecycle, membership,
/// consensus, handshakes) takes the place of the newest transient one (`PubSub`,
/// `GossipUpdated`), which is dropped and counted instead. So however much pub/sub and
/// gossip traffic flows, a slow reader loses a `TopologyUpdated` or a `Shutdown` only when
/// the whole buffer holds lasting events. Events come out in publish order, less the
/// dropped ones. The stream ends when the node's event stream is gone; dropping it
/// unsubscribes.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use chorus_tokio::core::cluster::ClusterEvent;
/// use futures_util::StreamExt;
///
/// let node = chorus_tokio::Cluster::builder().start().await?;
/// let mut events = node.events();
/// // A new stream starts with the replay: the node's start is in it.
/// while let Some(event) = events.next().await {
///     match event {
///         ClusterEvent::Startup { .. } => break,
///         ClusterEvent::TopologyUpdated(topology) => {
///             println!("{} member(s)", topology.members().len());
///         }
///         _ => {}
///     }
/// }
/// assert_eq!(events.dropped(), 0);
/// node.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct ClusterEvents {
    buffer: Arc<EventBuffer>,
    _subscription: Subscription<ClusterEvent>,
}

/// The largest buffer of a stream, in events.
pub(crate) const MAX_EVENT_BUFFER: usize = 1 << 20;

impl ClusterEvents {
    pub(crate) fn new(events: &EventStream<ClusterEvent>, buffer: usize) -> Self {
        let buffer = Arc::new(EventBuffer::new(buffer.clamp(1, MAX_EVENT_BUFFER)));
        let feeder = Feeder(Arc::clone(&buffer));
        let subscription = events.subscribe(move |event| feeder.push(event));
        Self {
            buffer,
            _subscription: subscription,
        }
    }

    /// Events dropped because the buffer was full, of both classes.
    pub fn dropped(&self) -> u64 {
        self.buffer.lock().dropped
    }
}

impl Stream for ClusterEvents {
    type Item = ClusterEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut state = self.buffer.lock();
        if let Some(event) = state.pop() {
            return Poll::Ready(Some(event));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl std::fmt::Debug for ClusterEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.buffer.lock();
        f.debug_struct("ClusterEvents")
            .field("buffered", &state.len())
            .field("capacity", &self.buffer.capacity)
            .field("dropped", &state.dropped)
            .finish_non_exhaustive()
    }
}

/// The bounded buffer between the event stream's callback and the reader.
///
/// Each class waits in a queue of its own, every event with a sequence number, so that a
/// lasting event can evict a transient one in O(1) and the reader still gets publish order.
struct EventBuffer {
    capacity: usize,
    state: Mutex<BufferState>,
}

struct BufferState {
    lasting: VecDeque<(u64, ClusterEvent)>,
    transient: VecDeque<(u64, ClusterEvent)>,
    next_seq: u64,
    dropped: u64,
    /// The reader waiting for the next event.
    waker: Option<Waker>,
    /// The callback is gone: nothing more will come.
    closed: bool,
}

impl EventBuffer {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(BufferState {
                lasting: VecDeque::new(),
                transient: VecDeque::new(),
                next_seq: 0,
                dropped: 0,
                waker: None,
                closed: false,
            }),
        }
    }

    /// The state; a panic elsewhere while it was locked leaves it consistent (every change
    /// is one push or pop), so a poisoned lock is taken over.
    fn lock(&self) -> MutexGuard<'_, BufferState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Buffers `event` under the rule of [`ClusterEvents`] and wakes the reader.
    fn push(&self, event: &ClusterEvent) {
        let class = event.class();
        let waker = {
            let mut state = self.lock();
            if state.len() >= self.capacity {
                state.dropped += 1;
                let room = class == EventClass::Lasting && state.transient.pop_back().is_some();
                if !room {
                    return;
                }
            }
            let seq = state.next_seq;
            state.next_seq += 1;
            let queue = match class {
                EventClass::Lasting => &mut state.lasting,
                EventClass::Transient => &mut state.transient,
            };
            queue.push_back((seq, event.clone()));
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Ends the stream once the buffered events are read.
    fn close(&self) {
        let waker = {
            let mut state = self.lock();
            state.closed = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl BufferState {
    fn len(&self) -> usize {
        self.lasting.len() + self.transient.len()
    }

    /// The oldest buffered event of either class.
    fn pop(&mut self) -> Option<ClusterEvent> {
        let lasting_first = match (self.lasting.front(), self.transient.front()) {
            (Some((a, _)), Some((b, _))) => a < b,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let queue = if lasting_first {
            &mut self.lasting
        } else {
            &mut self.transient
        };
        queue.pop_front().map(|(_, event)| event)
    }
}

/// The event stream's side of the buffer: owned by the subscription's callback, it closes
/// the buffer when the callback goes (the subscription ended or the stream is gone).
struct Feeder(Arc<EventBuffer>);

impl Feeder {
    fn push(&self, event: &ClusterEvent) {
        self.0.push(event);
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.0.close();
    }
}
