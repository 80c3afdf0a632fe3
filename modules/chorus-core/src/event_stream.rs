//! In-process publish/subscribe of events.

mod event_class;
mod publish_hold;
mod replay;
mod subscriber;
mod subscription;
#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

pub use event_class::EventClass;
pub use publish_hold::PublishHold;
pub use subscription::Subscription;

use replay::Replay;
use subscriber::{Callback, Subscriber};

/// In-process publish/subscribe of events of type `E`.
///
/// `EventStream` is a cheap handle: clones share the same subscribers. Publishing takes a
/// snapshot of the subscribers under a lock and calls them outside it, so a subscriber may
/// publish, subscribe or unsubscribe from inside its callback without deadlocking. A
/// subscriber removed while a publish is under way may still receive that one event.
///
/// With a replay capacity of `n`, the stream keeps the last `n` events and hands them to
/// every new subscriber before any live event, even one published by another thread while
/// the replay is under way (`n = 0`, the default, keeps nothing). Every event reaches a new
/// subscriber exactly once: replayed if it was published before the subscription, live if
/// after.
///
/// A stream built with [`EventStream::with_replay_by_class`] keeps [`EventClass::Lasting`]
/// and [`EventClass::Transient`] events in rings of their own and replays both, merged in
/// publish order: however many transient events are published, they evict only older
/// transient ones, never a lasting event.
///
/// A [`PublishHold`] ([`EventStream::hold`]) defers delivery: while one is alive, events
/// are queued, and the last hold to go delivers them in publish order.
pub struct EventStream<E> {
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    state: spin::Mutex<State<E>>,
}

struct State<E> {
    next_id: u64,
    subscribers: Vec<(u64, Arc<Subscriber<E>>)>,
    replay: Replay<E>,
    /// Live holds: while non-zero, nothing is delivered.
    holds: usize,
    /// A thread is delivering the deferred queue; new work joins the queue meanwhile.
    flushing: bool,
    deferred: VecDeque<Deferred<E>>,
}

/// Work held back by a [`PublishHold`], in the order it was asked for.
enum Deferred<E> {
    /// An event to publish.
    Event(E),
    /// A new subscriber's replay to deliver.
    Replay(Arc<Subscriber<E>>),
}

/// One step of delivering the deferred queue, taken under the lock and run outside it.
enum Step<E> {
    Event(E, Vec<Arc<Subscriber<E>>>),
    Replay(Arc<Subscriber<E>>),
}

impl<E> EventStream<E> {
    /// A stream that replays nothing to new subscribers.
    pub fn new() -> Self {
        Self::with_replay(0)
    }

    /// A stream that replays its last `capacity` events to every new subscriber.
    pub fn with_replay(capacity: usize) -> Self {
        Self::with_replay_by_class(capacity, 0, |_| EventClass::Lasting)
    }

    /// A stream that replays to every new subscriber its last `lasting` events of class
    /// [`EventClass::Lasting`] and its last `transient` events of class
    /// [`EventClass::Transient`], merged in publish order.
    ///
    /// `classify` is called once per published event, under the stream's lock: it should
    /// only look at the event.
    ///
    /// ```
    /// use chorus_core::event_stream::{EventClass, EventStream};
    ///
    /// // Odd numbers stand for rare events, even ones for a flood.
    /// let stream = EventStream::with_replay_by_class(2, 2, |e: &u32| {
    ///     if e % 2 == 1 { EventClass::Lasting } else { EventClass::Transient }
    /// });
    /// stream.publish(1);
    /// for e in (2..1_000).step_by(2) {
    ///     stream.publish(e);
    /// }
    /// let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// let _sub = stream.subscribe(move |e| sink.lock().unwrap().push(*e));
    /// assert_eq!(*seen.lock().unwrap(), [1, 996, 998]);
    /// ```
    pub fn with_replay_by_class(
        lasting: usize,
        transient: usize,
        classify: fn(&E) -> EventClass,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: spin::Mutex::new(State {
                    next_id: 0,
                    subscribers: Vec::new(),
                    replay: Replay::new(lasting, transient, classify),
                    holds: 0,
                    flushing: false,
                    deferred: VecDeque::new(),
                }),
            }),
        }
    }

    /// How many events this stream replays to a new subscriber at most, of both classes.
    pub fn replay_capacity(&self) -> usize {
        let state = self.inner.state.lock();
        state.replay.capacity_of(EventClass::Lasting)
            + state.replay.capacity_of(EventClass::Transient)
    }

    /// How many events of `class` this stream replays to a new subscriber at most.
    pub fn replay_capacity_of(&self, class: EventClass) -> usize {
        self.inner.state.lock().replay.capacity_of(class)
    }

    /// The number of live subscriptions.
    pub fn subscriber_count(&self) -> usize {
        self.inner.state.lock().subscribers.len()
    }

    /// Removes the subscription `id`; returns whether it was still registered.
    fn remove(inner: &Inner<E>, id: u64) -> bool {
        let removed = {
            let mut state = inner.state.lock();
            let at = state.subscribers.iter().position(|(sid, _)| *sid == id);
            at.map(|at| state.subscribers.remove(at).1)
        };
        // Closed so that a replay or a queued event still on its way is not delivered.
        removed.map(|subscriber| subscriber.close()).is_some()
    }
}

impl<E: Clone> EventStream<E> {
    /// Registers `callback` for every event published from now on, after the replayed ones.
    ///
    /// The replay is delivered before `subscribe` returns, unless a [`PublishHold`] is
    /// alive: then it is delivered, in order with the held events, when the hold goes.
    /// The returned [`Subscription`] unsubscribes when dropped or when
    /// [`Subscription::unsubscribe`] is called.
    pub fn subscribe<F>(&self, callback: F) -> Subscription<E>
    where
        F: Fn(&E) + Send + Sync + 'static,
    {
        let callback: Callback<E> = Arc::new(callback);
        let (id, replay_now) = {
            let mut state = self.inner.state.lock();
            let id = state.next_id;
            state.next_id += 1;
            // Registered and given the replay under one lock: an event is either in the
            // replay or delivered live, never both and never neither.
            let subscriber = Arc::new(Subscriber::new(callback, state.replay.snapshot()));
            state.subscribers.push((id, Arc::clone(&subscriber)));
            let replay_now = if !subscriber.is_catching_up() {
                None
            } else if state.is_held() {
                state.deferred.push_back(Deferred::Replay(subscriber));
                None
            } else {
                Some(subscriber)
            };
            (id, replay_now)
        };
        if let Some(subscriber) = replay_now {
            subscriber.catch_up();
        }
        Subscription::new(Arc::downgrade(&self.inner), id)
    }

    /// Delivers `event` to every current subscriber, outside the lock — or, while a
    /// [`PublishHold`] is alive, queues it for delivery when the hold goes.
    pub fn publish(&self, event: E) {
        let subscribers = {
            let mut state = self.inner.state.lock();
            if state.is_held() {
                state.deferred.push_back(Deferred::Event(event));
                return;
            }
            state.take_in(&event)
        };
        for subscriber in subscribers {
            subscriber.deliver(&event);
        }
    }

    /// Holds back delivery until the returned [`PublishHold`] (and every other hold) is
    /// dropped; then the held events are delivered in publish order by the thread that
    /// drops the last hold.
    pub fn hold(&self) -> PublishHold<E> {
        self.inner.state.lock().holds += 1;
        PublishHold::new(Arc::clone(&self.inner), Self::release)
    }

    /// Drops one hold; the last one delivers the deferred queue, including what the
    /// subscribers publish meanwhile, until it is empty or someone takes a hold again.
    fn release(inner: &Inner<E>) {
        {
            let mut state = inner.state.lock();
            state.holds = state.holds.saturating_sub(1);
            if state.holds > 0 || state.flushing {
                return;
            }
            state.flushing = true;
        }
        let mut guard = FlushGuard { inner, armed: true };
        loop {
            let step = {
                let mut state = inner.state.lock();
                // Stopping is decided under the lock that a concurrent release checks: with
                // a hold taken again, its holder delivers the rest when it lets go.
                let next = if state.holds > 0 {
                    None
                } else {
                    state.deferred.pop_front()
                };
                match next {
                    None => {
                        state.flushing = false;
                        guard.armed = false;
                        return;
                    }
                    Some(Deferred::Replay(subscriber)) => Step::Replay(subscriber),
                    Some(Deferred::Event(event)) => {
                        let subscribers = state.take_in(&event);
                        Step::Event(event, subscribers)
                    }
                }
            };
            match step {
                Step::Replay(subscriber) => subscriber.catch_up(),
                Step::Event(event, subscribers) => {
                    for subscriber in subscribers {
                        subscriber.deliver(&event);
                    }
                }
            }
        }
    }
}

impl<E> State<E> {
    fn is_held(&self) -> bool {
        self.holds > 0 || self.flushing
    }
}

impl<E: Clone> State<E> {
    /// Records `event` for replay and returns who receives it live: the same lock decides
    /// both, so a subscriber registering concurrently gets it one way or the other.
    fn take_in(&mut self, event: &E) -> Vec<Arc<Subscriber<E>>> {
        self.replay.record(event);
        self.subscribers
            .iter()
            .map(|(_, subscriber)| Arc::clone(subscriber))
            .collect()
    }
}

/// Ends a delivery of the deferred queue that a panicking callback interrupted, so that
/// the stream does not stay deferred for good.
struct FlushGuard<'a, E> {
    inner: &'a Inner<E>,
    armed: bool,
}

impl<E> Drop for FlushGuard<'_, E> {
    fn drop(&mut self) {
        if self.armed {
            self.inner.state.lock().flushing = false;
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
            .field(
                "replay_lasting",
                &(
                    state.replay.len_of(EventClass::Lasting),
                    state.replay.capacity_of(EventClass::Lasting),
                ),
            )
            .field(
                "replay_transient",
                &(
                    state.replay.len_of(EventClass::Transient),
                    state.replay.capacity_of(EventClass::Transient),
                ),
            )
            .field("holds", &state.holds)
            .field("deferred", &state.deferred.len())
            .finish()
    }
}
