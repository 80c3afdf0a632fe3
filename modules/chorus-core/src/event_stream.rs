//! In-process publish/subscribe of events.

mod subscription;
#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

pub use subscription::Subscription;

/// A subscriber callback, shared so that a publish can call it outside the lock.
type Callback<E> = Arc<dyn Fn(&E) + Send + Sync>;

/// In-process publish/subscribe of events of type `E`.
///
/// `EventStream` is a cheap handle: clones share the same subscribers. Publishing takes a
/// snapshot of the subscribers under a lock and calls them outside it, so a subscriber may
/// publish, subscribe or unsubscribe from inside its callback without deadlocking. A
/// subscriber removed while a publish is under way may still receive that one event.
///
/// With a replay capacity of `n`, the stream keeps the last `n` events and hands them to
/// every new subscriber before live events (`n = 0`, the default, keeps nothing).
pub struct EventStream<E> {
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    state: spin::Mutex<State<E>>,
}

struct State<E> {
    next_id: u64,
    subscribers: Vec<(u64, Callback<E>)>,
    replay: VecDeque<E>,
    replay_capacity: usize,
}

impl<E> EventStream<E> {
    /// A stream that replays nothing to new subscribers.
    pub fn new() -> Self {
        Self::with_replay(0)
    }

    /// A stream that replays its last `capacity` events to every new subscriber.
    pub fn with_replay(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: spin::Mutex::new(State {
                    next_id: 0,
                    subscribers: Vec::new(),
                    replay: VecDeque::with_capacity(capacity),
                    replay_capacity: capacity,
                }),
            }),
        }
    }

    /// How many events this stream replays to a new subscriber.
    pub fn replay_capacity(&self) -> usize {
        self.inner.state.lock().replay_capacity
    }

    /// The number of live subscriptions.
    pub fn subscriber_count(&self) -> usize {
        self.inner.state.lock().subscribers.len()
    }

    /// Removes the subscription `id`; returns whether it was still registered.
    fn remove(inner: &Inner<E>, id: u64) -> bool {
        let mut state = inner.state.lock();
        let before = state.subscribers.len();
        state.subscribers.retain(|(sid, _)| *sid != id);
        state.subscribers.len() != before
    }
}

impl<E: Clone> EventStream<E> {
    /// Registers `callback` for every event published from now on (after the replayed ones).
    ///
    /// The returned [`Subscription`] unsubscribes when dropped or when
    /// [`Subscription::unsubscribe`] is called.
    pub fn subscribe<F>(&self, callback: F) -> Subscription<E>
    where
        F: Fn(&E) + Send + Sync + 'static,
    {
        let callback: Callback<E> = Arc::new(callback);
        let (id, replayed) = {
            let mut state = self.inner.state.lock();
            let id = state.next_id;
            state.next_id += 1;
            state.subscribers.push((id, Arc::clone(&callback)));
            let replayed: Vec<E> = state.replay.iter().cloned().collect();
            (id, replayed)
        };
        for event in &replayed {
            callback(event);
        }
        Subscription::new(Arc::downgrade(&self.inner), id)
    }

    /// Delivers `event` to every current subscriber, outside the lock.
    pub fn publish(&self, event: E) {
        let subscribers: Vec<Callback<E>> = {
            let mut state = self.inner.state.lock();
            if state.replay_capacity > 0 {
                if state.replay.len() == state.replay_capacity {
                    state.replay.pop_front();
                }
                state.replay.push_back(event.clone());
            }
            state
                .subscribers
                .iter()
                .map(|(_, callback)| Arc::clone(callback))
                .collect()
        };
        for callback in subscribers {
            callback(&event);
        }
    }
}

impl<E> Clone for EventStream<E> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<E> Default for EventStream<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("EventStream")
            .field("subscribers", &state.subscribers.len())
            .field("replay_capacity", &state.replay_capacity)
            .field("replay_len", &state.replay.len())
            .finish()
    }
}
