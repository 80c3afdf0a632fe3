use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Counters a local subscriber's buffer shares with its stream: deliveries waiting in it
/// and deliveries dropped because it was full.
#[derive(Debug, Default)]
pub(crate) struct SinkCounters {
    queued: AtomicUsize,
    dropped: AtomicU64,
}

impl SinkCounters {
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    pub(crate) fn add_queued(&self) {
        self.queued.fetch_add(1, Ordering::AcqRel);
    }

    /// One delivery left the buffer (the stream yielded it).
    pub(crate) fn take_queued(&self) {
        // Never below zero, whatever the interleaving.
        let _ = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn add_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
}
