use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

/// A subscriber callback, shared so that a publish can call it outside the stream's lock.
pub(super) type Callback<E> = Arc<dyn Fn(&E) + Send + Sync>;

/// One registered callback and the events it still has to catch up on.
///
/// A new subscriber first receives the stream's replayed events. Until it has received
/// all of them it is *catching up*: a live event that reaches it meanwhile (published by
/// another thread, or by its own callback) waits in `pending` behind the replayed ones, so
/// the subscriber sees every replayed event before any live one. Once caught up it never
/// catches up again, and delivery is a plain call.
pub(super) struct Subscriber<E> {
    callback: Callback<E>,
    /// Read without the lock on the delivery path; turned off only under the lock, once
    /// `pending` is empty and the last queued event has been handed over.
    catching_up: AtomicBool,
    closed: AtomicBool,
    pending: spin::Mutex<VecDeque<E>>,
}

impl<E: Clone> Subscriber<E> {
    /// A subscriber that must first receive `replay`, in order.
    pub(super) fn new(callback: Callback<E>, replay: VecDeque<E>) -> Self {
        Self {
            callback,
            catching_up: AtomicBool::new(!replay.is_empty()),
            closed: AtomicBool::new(false),
            pending: spin::Mutex::new(replay),
        }
    }

    /// Whether replayed events still wait for [`Subscriber::catch_up`].
    pub(super) fn is_catching_up(&self) -> bool {
        self.catching_up.load(Ordering::Acquire)
    }

    /// Hands `event` to the callback, or queues it behind the replay still under way.
    pub(super) fn deliver(&self, event: &E) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        if self.catching_up.load(Ordering::Acquire) {
            let mut pending = self.pending.lock();
            // Checked again under the lock: the catch-up may have ended meanwhile.
            if self.catching_up.load(Ordering::Acquire) {
                pending.push_back(event.clone());
                return;
            }
        }
        (self.callback)(event);
    }

    /// Delivers the queued events, oldest first, each outside the lock; live events that
    /// arrive meanwhile join the queue. Returns once the queue is empty.
    pub(super) fn catch_up(&self) {
        loop {
            let next = {
                let mut pending = self.pending.lock();
                match pending.pop_front() {
                    Some(event) if !self.closed.load(Ordering::Acquire) => event,
                    _ => {
                        pending.clear();
                        self.catching_up.store(false, Ordering::Release);
                        return;
                    }
                }
            };
            (self.callback)(&next);
        }
    }
}

impl<E> Subscriber<E> {
    /// Stops every further delivery, queued ones included.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.pending.lock().clear();
    }
}
