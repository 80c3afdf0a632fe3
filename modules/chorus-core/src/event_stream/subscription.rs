use alloc::sync::Weak;
use core::fmt;

use super::{EventStream, Inner};

/// A live subscription to an [`EventStream`]; dropping it unsubscribes.
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription<E> {
    stream: Weak<Inner<E>>,
    id: u64,
    active: bool,
}

impl<E> Subscription<E> {
    pub(super) fn new(stream: Weak<Inner<E>>, id: u64) -> Self {
        Self {
            stream,
            id,
            active: true,
        }
    }

    /// Stops the callback from receiving further events; returns whether it was still
    /// subscribed (false when the stream is gone).
    pub fn unsubscribe(mut self) -> bool {
        self.cancel()
    }

    /// Keeps the subscription alive for as long as the stream lives, without a handle.
    pub fn detach(mut self) {
        self.active = false;
    }

    fn cancel(&mut self) -> bool {
        if !self.active {
            return false;
        }
        self.active = false;
        match self.stream.upgrade() {
            Some(inner) => EventStream::remove(&inner, self.id),
            None => false,
        }
    }
}

impl<E> Drop for Subscription<E> {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl<E> fmt::Debug for Subscription<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}
