use alloc::sync::Arc;
use core::fmt;

use super::Inner;

/// Holds back the delivery of an [`EventStream`](super::EventStream)'s events; dropping it
/// delivers what was held back, in publish order.
///
/// While any hold on a stream is alive, `publish` only queues the event (and `subscribe`
/// queues the replay), so no subscriber runs. Whoever holds a lock that subscribers may
/// want takes a hold first and drops it after releasing the lock: events published under
/// the lock — by the lock holder or by another thread — reach the subscribers only once
/// the lock is free, so a subscriber may take it without deadlocking.
#[must_use = "dropping a PublishHold delivers the held events at once"]
pub struct PublishHold<E> {
    stream: Arc<Inner<E>>,
    release: fn(&Inner<E>),
}

impl<E> PublishHold<E> {
    pub(super) fn new(stream: Arc<Inner<E>>, release: fn(&Inner<E>)) -> Self {
        Self { stream, release }
    }
}

impl<E> Drop for PublishHold<E> {
    fn drop(&mut self) {
        (self.release)(&self.stream);
    }
}

impl<E> fmt::Debug for PublishHold<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishHold").finish_non_exhaustive()
    }
}
